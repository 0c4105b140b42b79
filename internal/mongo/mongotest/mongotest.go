// Package mongotest gives each test its own MongoDB database, so tests run
// in parallel on one server and leave nothing behind. Tests skip with a
// clear line when PALISADE_TEST_MONGODB_URL is unset.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnvURL is the variable that switches the MongoDB tests on, e.g.
// mongodb://127.0.0.1:27017/ for a local MongoDB or FerretDB.
const EnvURL = "PALISADE_TEST_MONGODB_URL"

// URL returns the test server URL, or skips the test.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skip("mongodb tests skipped: " + EnvURL + " is not set")
	}
	return u
}

// Database returns the test server URL with a fresh, randomly named
// database as its path. The database is dropped when the test ends.
func Database(t testing.TB) string {
	t.Helper()
	base := URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "palisade_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		client, err := Client(base)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer func() { _ = client.Disconnect(ctx) }()
		if err := client.Database(name).Drop(ctx); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return WithDatabase(base, name)
}

// Client connects to url with short timeouts, for a test's own checks.
// The caller disconnects it.
func Client(url string) (*mongo.Client, error) {
	return mongo.Connect(options.Client().
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		ApplyURI(url))
}

// WithDatabase returns url with its path (the database name) replaced by
// name, keeping hosts, credentials and options. It works on the string,
// since a URL of several hosts (h1,h2) is not one that net/url parses.
func WithDatabase(url, name string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	hosts, _, _ := strings.Cut(rest, "/")
	out := scheme + "://" + hosts + "/" + name
	if hasQuery {
		out += "?" + query
	}
	return out
}

// DatabaseName returns the database a URL made by Database names.
func DatabaseName(url string) string {
	_, rest, _ := strings.Cut(url, "://")
	rest, _, _ = strings.Cut(rest, "?")
	_, name, _ := strings.Cut(rest, "/")
	return name
}
