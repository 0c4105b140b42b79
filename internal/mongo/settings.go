package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/palisade-blog/palisade/internal/blog"
)

// siteSettingsID is the _id of the one settings document.
const siteSettingsID = "site"

// Settings implements blog.SettingsStore.
func (s *Store) Settings(ctx context.Context) (blog.Settings, error) {
	var d struct {
		Title       string `bson:"title"`
		Description string `bson:"description"`
	}
	err := s.settings.FindOne(ctx, bson.M{"_id": siteSettingsID}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return blog.DefaultSettings(), nil
	}
	if err != nil {
		return blog.Settings{}, fmt.Errorf("settings: %w", unavailable(err))
	}
	return blog.Settings{Title: d.Title, Description: d.Description}, nil
}

// SetSettings implements blog.SettingsStore.
func (s *Store) SetSettings(ctx context.Context, st blog.Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	_, err := s.settings.UpdateOne(ctx, bson.M{"_id": siteSettingsID},
		bson.M{"$set": bson.M{"title": st.Title, "description": st.Description}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("set settings: %w", unavailable(err))
	}
	return nil
}
