package app_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/app"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/sealed"
)

// load is the configuration serve would read from vars.
func load(t *testing.T, vars map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load("serve", nil, func(k string) string { return vars[k] }, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestOpenStoreMakesTheSQLiteDataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	cfg := load(t, map[string]string{"PALISADE_DATA_DIR": dir})
	store, err := app.OpenStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v, %v; want mode 0700", info, err)
	}
	if _, err := os.Stat(cfg.SQLitePath()); err != nil {
		t.Fatalf("database not at PALISADE_DATA_DIR's palisade.db: %v", err)
	}
}

// TestFrontDoorsShareOneURLSpace: the API routes first and hands the rest
// to the website; what neither routes is a page for a browser and JSON for
// anyone else, 405 with Allow when the path exists under another method.
func TestFrontDoorsShareOneURLSpace(t *testing.T) {
	cfg := load(t, map[string]string{
		"PALISADE_DATA_DIR":   t.TempDir(),
		"PALISADE_JWT_SECRET": apptest.Secret,
	})
	if err := cfg.EnsureDevSecrets(); err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(t.Context(), cfg, app.Options{Log: slog.New(slog.DiscardHandler), Hasher: auth.NewHasher(apptest.CheapHash, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	}()
	const page, json = "text/html; charset=utf-8", "application/json; charset=utf-8"
	tests := []struct {
		name, method, path, accept string
		status                     int
		contentType, allow         string
	}{
		{"APIRouteForABrowser", "GET", "/posts", "text/html", 200, json, ""},
		{"PageForAnAPIClient", "GET", "/login", "application/json", 200, page, ""},
		{"APIPathOtherMethod", "PUT", "/posts", "application/json", 405, json, "GET, POST, HEAD"},
		{"PagePathOtherMethod", "PUT", "/login", "application/json", 405, json, "GET, POST, HEAD"},
		{"APIPathOtherMethodForABrowser", "PUT", "/posts", "text/html", 404, page, ""},
		{"NowhereForABrowser", "GET", "/wp-admin", "text/html", 404, page, ""},
		{"NowhereForAnAPIClient", "GET", "/wp-admin", "application/json", 404, json, ""},
		{"NowhereWithoutAccept", "GET", "/wp-admin", "", 404, json, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			r.Host = cfg.BaseURL.Host
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			w := httptest.NewRecorder()
			a.Handler.ServeHTTP(w, r)
			if w.Code != tt.status || w.Header().Get("Content-Type") != tt.contentType {
				t.Fatalf("%s %s: %d %q, want %d %q: %s", tt.method, tt.path, w.Code, w.Header().Get("Content-Type"),
					tt.status, tt.contentType, strings.TrimSpace(w.Body.String()))
			}
			if got := w.Header().Get("Allow"); got != tt.allow {
				t.Fatalf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}

// TestStartUpSaysWhichSecretsTheKeysCantOpen: built with PALISADE_2FA_KEYS
// that don't open an account's TOTP secret, the application logs one
// error with the count; with the key that sealed it, nothing.
func TestStartUpSaysWhichSecretsTheKeysCantOpen(t *testing.T) {
	dir := t.TempDir()
	sealedWith, other := apptest.NewSecret(), apptest.NewSecret()
	cfg := load(t, map[string]string{"PALISADE_DATA_DIR": dir, "PALISADE_JWT_SECRET": apptest.Secret, "PALISADE_2FA_KEYS": sealedWith})
	if err := cfg.EnsureDevSecrets(); err != nil {
		t.Fatal(err)
	}
	store, err := app.OpenStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob"} {
		u, err := store.CreateUser(t.Context(), blog.NewUser{Username: name, PasswordHash: "h", Role: blog.RoleAuthor})
		if err != nil {
			t.Fatal(err)
		}
		keys, err := sealed.New([]byte(sealedWith))
		if err != nil {
			t.Fatal(err)
		}
		secret, err := keys.Seal([]byte("JBSWY3DPEHPK3PXP"), sealed.PurposeTOTP, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.BeginTOTP(t.Context(), u.ID, secret); err != nil {
			t.Fatal(err)
		}
		if name == "alice" { // bob's setup is left unfinished: not counted
			if err := store.EnableTOTP(t.Context(), u.ID, secret, 1, []string{"hash"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name, keys, want string
	}{
		{"RightKey", sealedWith, ""},
		{"OtherKey", other, "the authenticator-app secrets of 1 account can't be opened with the configured PALISADE_2FA_KEYS"},
		{"NoKey", "", "the authenticator-app secrets of 1 account can't be opened with the configured PALISADE_2FA_KEYS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := load(t, map[string]string{"PALISADE_DATA_DIR": dir, "PALISADE_JWT_SECRET": apptest.Secret, "PALISADE_2FA_KEYS": tt.keys})
			if err := cfg.EnsureDevSecrets(); err != nil {
				t.Fatal(err)
			}
			if tt.keys == "" {
				cfg.TwoFactorKeys = nil // as in production, where none is made up
			}
			logs := &apptest.LogBuffer{}
			a, err := app.Build(t.Context(), cfg, app.Options{Log: slog.New(slog.NewJSONHandler(logs, nil)), Hasher: auth.NewHasher(apptest.CheapHash, 0, 0)})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Close(); err != nil {
				t.Error(err)
			}
			got := logs.String()
			if tt.want == "" {
				if strings.Contains(got, "PALISADE_2FA_KEYS") {
					t.Fatalf("logged with the right key:\n%s", got)
				}
				return
			}
			if !strings.Contains(got, `"level":"ERROR"`) || !strings.Contains(got, tt.want) || !strings.Contains(got, "recovery code") {
				t.Fatalf("log = %s\nwant an error saying %q", got, tt.want)
			}
		})
	}
}
