package blog

import (
	"context"
	"unicode"
	"unicode/utf8"
)

// Settings are the site-wide settings an admin edits: what the blog calls
// itself on every page and in its feeds.
type Settings struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// Site setting limits, in characters.
const (
	SiteTitleMin       = 1
	SiteTitleMax       = 100
	SiteDescriptionMax = 500
)

// DefaultSettings are the settings of an instance whose admin has set
// none.
func DefaultSettings() Settings { return Settings{Title: "Palisade"} }

// Clean normalises both fields as CleanLine does (NFC, no control or
// hidden characters, trimmed), then validates them.
func (s *Settings) Clean() error {
	s.Title = CleanLine(s.Title)
	s.Description = CleanLine(s.Description)
	return s.Validate()
}

// Validate checks the settings without changing them: a title of 1–100
// characters, a description of at most 500, both valid UTF-8 with no
// control or hidden characters (Clean removes those; Validate refuses
// them, so a store never keeps one whatever its caller did). It returns
// a *ValidationError naming each bad field.
func (s Settings) Validate() error {
	var v validation
	switch n := length(s.Title); {
	case !printable(s.Title):
		v.add("body", "title", "Title must not contain control characters")
	case n < SiteTitleMin:
		v.add("body", "title", "Title is required")
	case n > SiteTitleMax:
		v.add("body", "title", "Title too long: use at most 100 characters")
	}
	switch {
	case !printable(s.Description):
		v.add("body", "description", "Description must not contain control characters")
	case length(s.Description) > SiteDescriptionMax:
		v.add("body", "description", "Description too long: use at most 500 characters")
	}
	return v.err()
}

// printable reports whether s is valid UTF-8 without control or hidden
// characters (see isHidden).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || isHidden(r) {
			return false
		}
	}
	return true
}

// SettingsStore keeps the site settings.
type SettingsStore interface {
	// Settings returns the site settings, DefaultSettings if none were
	// ever set.
	Settings(ctx context.Context) (Settings, error)
	// SetSettings replaces the site settings. Returns the
	// *ValidationError of Settings.Validate, and stores nothing then.
	SetSettings(ctx context.Context, s Settings) error
}
