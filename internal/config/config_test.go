package config

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load("serve", nil, env(nil), "", &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != Development || c.Addr != "127.0.0.1:3000" || c.BaseURL.String() != "http://127.0.0.1:3000" ||
		c.DataDir != "./data" || c.RateLimit.Limit != 100 || c.RateLimit.Window != 15*time.Minute ||
		c.LoginRateLimit.Limit != 5 || c.JWTTTL != 15*time.Minute || len(c.CORSOrigins) != 0 || len(c.TrustedProxies) != 0 ||
		c.Metrics || c.Registration != RegistrationInvite {
		t.Fatalf("defaults = %+v", c)
	}
}

// TestRegistrationPolicies: each policy is read from its variable or flag.
func TestRegistrationPolicies(t *testing.T) {
	for _, p := range []string{RegistrationInvite, RegistrationOpen, RegistrationClosed} {
		c, err := Load("serve", nil, env(map[string]string{"PALISADE_REGISTRATION": p}), "", &bytes.Buffer{})
		if err != nil || c.Registration != p {
			t.Fatalf("PALISADE_REGISTRATION=%s: %v, %+v", p, err, c)
		}
		c, err = Load("user", []string{"--registration", p}, env(nil), "", &bytes.Buffer{})
		if err != nil || c.Registration != p {
			t.Fatalf("--registration %s: %v, %+v", p, err, c)
		}
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	dotenv := filepath.Join(dir, ".env")
	if err := os.WriteFile(dotenv, []byte("PALISADE_ADDR=127.0.0.1:4000\nPALISADE_RATE_LIMIT=10/1m\nPALISADE_LOG_LEVEL=debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"PALISADE_RATE_LIMIT": "20/1m", "PALISADE_LOG_LEVEL": "warn"})
	c, err := Load("serve", []string{"--log-level", "error"}, getenv, dotenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:4000" {
		t.Errorf(".env not read: addr %q", c.Addr)
	}
	if c.RateLimit.Limit != 20 {
		t.Errorf("environment should beat .env: rate %v", c.RateLimit)
	}
	if c.LogLevel != slog.LevelError {
		t.Errorf("flag should beat environment: level %v", c.LogLevel)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"Env", map[string]string{"PALISADE_ENV": "staging"}, nil, "PALISADE_ENV"},
		{"Addr", map[string]string{"PALISADE_ADDR": "3000"}, nil, "PALISADE_ADDR"},
		{"BaseURL", map[string]string{"PALISADE_BASE_URL": "javascript:alert(1)"}, nil, "PALISADE_BASE_URL"},
		{"BaseURLWithPath", map[string]string{"PALISADE_BASE_URL": "https://x.example/blog"}, nil, "PALISADE_BASE_URL"},
		{"RateLimit", map[string]string{"PALISADE_RATE_LIMIT": "lots"}, nil, "PALISADE_RATE_LIMIT"},
		{"RateLimitFlag", nil, []string{"--rate-limit", "0/1m"}, "PALISADE_RATE_LIMIT"},
		{"LoginRateLimit", map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "5"}, nil, "PALISADE_LOGIN_RATE_LIMIT"},
		{"CORS", map[string]string{"PALISADE_CORS_ORIGINS": "https://ok.example, not a url"}, nil, "PALISADE_CORS_ORIGINS"},
		{"Proxies", map[string]string{"PALISADE_TRUSTED_PROXIES": "10.0.0.0/33"}, nil, "PALISADE_TRUSTED_PROXIES"},
		{"DatabaseURL", map[string]string{"PALISADE_DATABASE_URL": "mysql://x"}, nil, "PALISADE_DATABASE_URL"},
		{"RedisURL", map[string]string{"PALISADE_REDIS_URL": "http://x"}, nil, "PALISADE_REDIS_URL"},
		{"LogLevel", map[string]string{"PALISADE_LOG_LEVEL": "loud"}, nil, "PALISADE_LOG_LEVEL"},
		{"LogFormat", map[string]string{"PALISADE_LOG_FORMAT": "xml"}, nil, "PALISADE_LOG_FORMAT"},
		{"JWTTTL", map[string]string{"PALISADE_JWT_TTL": "720h"}, nil, "PALISADE_JWT_TTL"},
		{"Metrics", map[string]string{"PALISADE_METRICS": "yes please"}, nil, "PALISADE_METRICS"},
		{"Registration", map[string]string{"PALISADE_REGISTRATION": "everyone"}, nil, "PALISADE_REGISTRATION"},
		{"RegistrationFlag", nil, []string{"--registration", "Open"}, "PALISADE_REGISTRATION"},
		{"TLSHalf", map[string]string{"PALISADE_TLS_CERT": "c.pem"}, nil, "PALISADE_TLS_KEY"},
		{"ShortSecret", map[string]string{"PALISADE_JWT_SECRET": "short"}, nil, "PALISADE_JWT_SECRET"},
		{"UnknownFlag", nil, []string{"--nope"}, "nope"},
		{"BackupIntervalShort", map[string]string{"PALISADE_BACKUP_INTERVAL": "59s"}, nil, "PALISADE_BACKUP_INTERVAL"},
		{"BackupIntervalLong", nil, []string{"--backup-interval", "721h"}, "PALISADE_BACKUP_INTERVAL"},
		{"BackupIntervalNotDuration", map[string]string{"PALISADE_BACKUP_INTERVAL": "daily"}, nil, "PALISADE_BACKUP_INTERVAL"},
		{"BackupKeepZero", map[string]string{"PALISADE_BACKUP_KEEP": "0"}, nil, "PALISADE_BACKUP_KEEP"},
		{"BackupKeepMany", nil, []string{"--backup-keep", "1001"}, "PALISADE_BACKUP_KEEP"},
		{"BackupKeepNotNumber", map[string]string{"PALISADE_BACKUP_KEEP": "seven"}, nil, "PALISADE_BACKUP_KEEP"},
		{"BackupRecipients", map[string]string{"PALISADE_BACKUP_AGE_RECIPIENTS": "age1nope"}, nil, "PALISADE_BACKUP_AGE_RECIPIENTS: not an age public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("serve", tt.args, env(tt.env), "", &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is more than one line: %q", err)
			}
		})
	}
}

// TestBackupSettings: the defaults, the bounds accepted, flags, and a
// secret key pasted where a public one belongs is refused without being
// repeated.
func TestBackupSettings(t *testing.T) {
	c, err := Load("serve", nil, env(nil), "", &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BackupDir != "" || c.BackupInterval != 24*time.Hour || c.BackupKeep != 7 || len(c.BackupRecipients) != 0 {
		t.Fatalf("backup defaults = %q, %s, %d, %d recipients", c.BackupDir, c.BackupInterval, c.BackupKeep, len(c.BackupRecipients))
	}
	const key = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	c, err = Load("serve", []string{"--backup-dir", "/var/backups/blog", "--backup-interval", "1m", "--backup-keep", "1000"},
		env(map[string]string{"PALISADE_BACKUP_AGE_RECIPIENTS": key + ", " + key + ","}), "", &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BackupDir != "/var/backups/blog" || c.BackupInterval != time.Minute || c.BackupKeep != 1000 || len(c.BackupRecipients) != 2 {
		t.Fatalf("backup settings = %q, %s, %d, %d recipients", c.BackupDir, c.BackupInterval, c.BackupKeep, len(c.BackupRecipients))
	}
	if _, err := Load("serve", []string{"--backup-interval", "720h", "--backup-keep", "1"}, env(nil), "", &bytes.Buffer{}); err != nil {
		t.Fatalf("the longest interval and the smallest keep: %v", err)
	}
	const secretKey = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
	_, err = Load("serve", nil, env(map[string]string{"PALISADE_BACKUP_AGE_RECIPIENTS": secretKey}), "", &bytes.Buffer{})
	if err == nil || strings.Contains(err.Error(), "SECRET-KEY") {
		t.Fatalf("a secret key as a recipient: %v", err)
	}
}

// randomSecret is what `openssl rand -base64 n` prints.
func randomSecret(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestProductionRefusesMissingSecrets(t *testing.T) {
	strong, strong2 := randomSecret(t, 32), randomSecret(t, 32)
	base := map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want string // "" means success
	}{
		{"NoSecrets", with(nil), "PALISADE_JWT_SECRET"},
		{"NoSessionSecret", with(map[string]string{"PALISADE_JWT_SECRET": strong}), "PALISADE_SESSION_SECRET"},
		{"ShortSession", with(map[string]string{"PALISADE_JWT_SECRET": strong, "PALISADE_SESSION_SECRET": strong[:MinSecretLen-1]}), "PALISADE_SESSION_SECRET"},
		{"PlainHTTPBaseURL", with(map[string]string{"PALISADE_JWT_SECRET": strong, "PALISADE_SESSION_SECRET": strong2, "PALISADE_BASE_URL": "http://blog.example"}), "PALISADE_BASE_URL"},
		{"Honest", with(map[string]string{"PALISADE_JWT_SECRET": strong, "PALISADE_SESSION_SECRET": strong2}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("serve", nil, env(tt.env), "", &bytes.Buffer{})
			if tt.want == "" {
				if err != nil || !c.Production() {
					t.Fatalf("honest production config refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %s", err, tt.want)
			}
			if strings.Contains(err.Error(), strong[:MinSecretLen-1]) {
				t.Fatal("error message contains the secret")
			}
		})
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	secret := "correct-horse-battery-staple-0123456789"
	c, err := Load("serve", nil, env(map[string]string{"PALISADE_JWT_SECRET": secret, "PALISADE_SESSION_SECRET": secret}), "", &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%v %+v %s", c, c, c.JWTSecret)
	j, _ := json.Marshal(c)
	buf.Write(j)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", c, "secret", c.SessionSecret)
	if strings.Contains(buf.String(), secret) {
		t.Fatalf("secret printed: %s", buf.String())
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := Load("serve", []string{"--help"}, env(nil), "", &out)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "PALISADE_RATE_LIMIT") {
		t.Fatalf("help: %v\n%s", err, out.String())
	}
}

func TestDevSecretsPersist(t *testing.T) {
	dir := t.TempDir()
	load := func() *Config {
		c, err := Load("serve", []string{"--data-dir", dir}, env(nil), "", &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.EnsureDevSecrets(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	first, second := load(), load()
	if len(first.JWTSecret) < MinSecretLen || string(first.JWTSecret) != string(second.JWTSecret) || string(first.SessionSecret) != string(second.SessionSecret) {
		t.Fatal("development secrets not generated once and kept")
	}
	if string(first.JWTSecret) == string(first.SessionSecret) {
		t.Fatal("the two secrets are the same")
	}
	for _, name := range []string{"jwt.secret", "session.secret"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v", name, err, info.Mode().Perm())
		}
	}
	t.Run("RefusesWorldReadable", func(t *testing.T) {
		if err := os.Chmod(filepath.Join(dir, "jwt.secret"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, _ := Load("serve", []string{"--data-dir", dir}, env(nil), "", &bytes.Buffer{})
		if err := c.EnsureDevSecrets(); err == nil {
			t.Fatal("world-readable secret file accepted")
		}
	})
}

func TestProductionRefusesWeakSecrets(t *testing.T) {
	good := randomSecret(t, 48)
	prod := func(jwt, session string) map[string]string {
		return map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example",
			"PALISADE_JWT_SECRET": jwt, "PALISADE_SESSION_SECRET": session}
	}
	for name, weak := range map[string]string{
		"READMEPlaceholder":  "<output of openssl rand -base64 48>",
		"UnexpandedShell":    "$(openssl rand -base64 48)",
		"InnerSpace":         "correct horse battery staple and more words",
		"ChangeMe":           "CHANGEME-please-0123456789abcdefghijkl",
		"SecretWord":         "my-super-secret-key-for-the-blog-2026",
		"Example":            "example-jwt-key-Zx81Qp0Lw2Mn7Vb3Cd9Ty",
		"Repeated":           strings.Repeat("a", 48),
		"TwoLetters":         strings.Repeat("ab", 24),
		"ShortAlphabet":      strings.Repeat("0123", 10),
		"RepeatedPlusSuffix": strings.Repeat("s", 40) + "-bench-session-key",
	} {
		t.Run(name, func(t *testing.T) {
			for _, m := range []map[string]string{prod(weak, good), prod(good, weak)} {
				_, err := Load("serve", nil, env(m), "", &bytes.Buffer{})
				want := "PALISADE_JWT_SECRET"
				if m["PALISADE_SESSION_SECRET"] == weak {
					want = "PALISADE_SESSION_SECRET"
				}
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "openssl rand") {
					t.Fatalf("err = %v, want one naming %s and saying how to make a good one", err, want)
				}
				if strings.Contains(err.Error(), weak) || strings.Contains(err.Error(), good) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error quotes a secret or is more than one line: %q", err)
				}
			}
		})
	}
	t.Run("SameForBoth", func(t *testing.T) {
		_, err := Load("serve", nil, env(prod(good, good)), "", &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "must differ") || strings.Contains(err.Error(), good) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("DevelopmentWarns", func(t *testing.T) {
		m := prod(strings.Repeat("a", 48), strings.Repeat("a", 48))
		delete(m, "PALISADE_ENV")
		c, err := Load("serve", nil, env(m), "", &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(c.Warnings, "\n")
		if !strings.Contains(all, "PALISADE_JWT_SECRET: too predictable") || !strings.Contains(all, "must differ") || strings.Contains(all, "aaaa") {
			t.Fatalf("warnings = %q", c.Warnings)
		}
	})
}

// TestRealSecretsPass: what the README and common tools generate always
// clears MinSecretBits (with a wide margin, see its comment).
func TestRealSecretsPass(t *testing.T) {
	gens := map[string]func() string{
		"openssl rand -base64 32":        func() string { return randomSecret(t, 32) },
		"openssl rand -base64 48":        func() string { return randomSecret(t, 48) },
		"openssl rand -hex 32":           func() string { b := make([]byte, 32); _, _ = rand.Read(b); return hex.EncodeToString(b) },
		"head -c 32 /dev/urandom|base64": func() string { return randomSecret(t, 32) + "\n" },
		"generated development secret": func() string {
			b := make([]byte, 48)
			_, _ = rand.Read(b)
			return base64.RawURLEncoding.EncodeToString(b)
		},
	}
	for name, gen := range gens {
		for range 500 {
			jwt, session := gen(), gen()
			_, err := Load("serve", nil, env(map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example",
				"PALISADE_JWT_SECRET": jwt, "PALISADE_SESSION_SECRET": session}), "", &bytes.Buffer{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
}

// TestOnlyServeNeedsSecrets: migrate and user sign nothing, so production
// does not ask them for the secrets, and they do not hold them.
func TestOnlyServeNeedsSecrets(t *testing.T) {
	m := map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example", "PALISADE_JWT_SECRET": "weak"}
	for _, name := range []string{"migrate", "user"} {
		c, err := Load(name, nil, env(m), "", &bytes.Buffer{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(c.JWTSecret) != 0 {
			t.Fatalf("%s read a secret it does not use", name)
		}
	}
	if _, err := Load("serve", nil, env(m), "", &bytes.Buffer{}); err == nil {
		t.Fatal("serve started in production without good secrets")
	}
}

func TestUsageMistakes(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"stray"}, {"--addr"}} {
		var out bytes.Buffer
		_, err := Load("serve", args, env(nil), "", &out)
		if !errors.Is(err, ErrUsage) || out.Len() != 0 {
			t.Fatalf("%v: err %v, printed %q; want ErrUsage and nothing printed", args, err, out.String())
		}
	}
}

func TestUnknownVariables(t *testing.T) {
	got := UnknownVariables([]string{
		"PALISADE_RATELIMIT", "PALISADE_ADRR", "PALISADE_FROBNICATE", "PALISADE_ADDR", "HOME",
		"PALISADE_TEST_POSTGRES_URL", "PALISADE_TEST_ANYTHING", "PALISADE_SCREENSHOT_DIR", "palisade_addr",
	}, "environment")
	want := []string{
		"unknown variable PALISADE_ADRR in the environment is ignored (did you mean PALISADE_ADDR?)",
		"unknown variable PALISADE_FROBNICATE in the environment is ignored",
		"unknown variable PALISADE_RATELIMIT in the environment is ignored (did you mean PALISADE_RATE_LIMIT?)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	t.Run("Dotenv", func(t *testing.T) {
		dotenv := filepath.Join(t.TempDir(), ".env")
		if err := os.WriteFile(dotenv, []byte("PALISADE_LOGIN_RATE_LIMT=3/1m\nPALISADE_TEST_X=1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load("serve", nil, env(nil), dotenv, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "PALISADE_LOGIN_RATE_LIMT in the "+dotenv) || !strings.Contains(c.Warnings[0], "PALISADE_LOGIN_RATE_LIMIT?") {
			t.Fatalf("warnings = %q", c.Warnings)
		}
		if c.DotenvPath != dotenv {
			t.Fatalf("DotenvPath = %q", c.DotenvPath)
		}
	})
}

// TestSummaryHoldsNoSecret: the start-up line names where things are but
// never a secret, nor a password in a URL.
func TestSummaryHoldsNoSecret(t *testing.T) {
	jwt, session := randomSecret(t, 48), randomSecret(t, 48)
	c, err := Load("serve", nil, env(map[string]string{
		"PALISADE_JWT_SECRET":     jwt,
		"PALISADE_SESSION_SECRET": session,
		"PALISADE_DATABASE_URL":   "postgres://blog:pg-hunter2@db.internal:5432/blog?sslmode=require&password=qs-hunter2",
		"PALISADE_REDIS_URL":      "rediss://:redis-hunter2@cache.internal:6380/0",
	}), "", &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).LogAttrs(t.Context(), slog.LevelInfo, "starting", c.Summary()...)
	line := buf.String()
	for _, want := range []string{`"database":"postgres db.internal:5432/blog"`, `"redis":"cache.internal:6380/0"`, `"rateLimit":"100/15m0s"`, `"jwtKeyFrom":"environment"`, `"dotenv":"none"`, `"registration":"invite"`} {
		if !strings.Contains(line, want) {
			t.Errorf("summary lacks %s: %s", want, line)
		}
	}
	for _, leak := range []string{jwt, session, "hunter2", "blog:"} {
		if strings.Contains(line, leak) {
			t.Fatalf("summary shows %q: %s", leak, line)
		}
	}
}

func TestTwoFactorKeys(t *testing.T) {
	jwt, session := randomSecret(t, 48), randomSecret(t, 48)
	k1, k2 := randomSecret(t, 48), randomSecret(t, 48)
	prod := func(keys string) map[string]string {
		m := map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example",
			"PALISADE_JWT_SECRET": jwt, "PALISADE_SESSION_SECRET": session}
		if keys != "" {
			m["PALISADE_2FA_KEYS"] = keys
		}
		return m
	}
	t.Run("ProductionStartsWithout", func(t *testing.T) {
		// An upgraded deployment without the setting keeps starting, and
		// is told why nobody can enrol.
		c, err := Load("serve", nil, env(prod("")), "", &bytes.Buffer{})
		if err != nil {
			t.Fatalf("production without PALISADE_2FA_KEYS refused: %v", err)
		}
		if len(c.TwoFactorKeys) != 0 || !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, "PALISADE_2FA_KEYS") }) {
			t.Fatalf("keys %d, warnings %q: want none and a warning", len(c.TwoFactorKeys), c.Warnings)
		}
		if got := summaryValue(c, "twoFactorKeys"); !strings.Contains(got, "none") {
			t.Errorf("summary says %q, want none", got)
		}
	})
	t.Run("NewestFirst", func(t *testing.T) {
		c, err := Load("serve", nil, env(prod(" "+k1+" , "+k2+" ")), "", &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		b := c.TwoFactorKeyBytes()
		if len(b) != 2 || string(b[0]) != k1 || string(b[1]) != k2 {
			t.Fatalf("got %d keys, want k1 then k2", len(b))
		}
		if got := summaryValue(c, "twoFactorKeys"); got != "2 keys, environment" {
			t.Errorf("summary says %q", got)
		}
	})
	for _, tc := range []struct{ name, keys, want string }{
		{"Short", k1 + "," + k2[:MinSecretLen-1], "key 2 of 2"},
		{"Placeholder", "<output of openssl rand -base64 48>", "placeholder"},
		{"Predictable", strings.Repeat("ab", 24), "predictable"},
		{"Repeated", k1 + "," + k1, "listed twice"},
		{"SameAsJWTSecret", jwt, "must differ"},
		{"SameAsSessionSecret", k1 + "," + session, "must differ"},
	} {
		t.Run("ProductionRefuses"+tc.name, func(t *testing.T) {
			_, err := Load("serve", nil, env(prod(tc.keys)), "", &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), "PALISADE_2FA_KEYS") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming PALISADE_2FA_KEYS and %q", err, tc.want)
			}
			for _, k := range strings.Split(tc.keys, ",") {
				if len(k) >= 8 && strings.Contains(err.Error(), k[:8]) {
					t.Fatalf("error quotes a key: %q", err)
				}
			}
		})
	}
	t.Run("DevelopmentWarnsOnWeak", func(t *testing.T) {
		c, err := Load("serve", nil, env(map[string]string{"PALISADE_2FA_KEYS": strings.Repeat("ab", 24)}), "", &bytes.Buffer{})
		if err != nil || !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, "PALISADE_2FA_KEYS") }) {
			t.Fatalf("err %v, warnings %q: want a warning", err, c.Warnings)
		}
	})
	t.Run("DevelopmentGeneratesAndKeeps", func(t *testing.T) {
		dir := t.TempDir()
		load := func() *Config {
			c, err := Load("serve", []string{"--data-dir", dir}, env(nil), "", &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.EnsureDevSecrets(); err != nil {
				t.Fatal(err)
			}
			return c
		}
		first, second := load(), load()
		if len(first.TwoFactorKeys) != 1 || len(first.TwoFactorKeys[0]) < MinSecretLen || string(first.TwoFactorKeys[0]) != string(second.TwoFactorKeys[0]) {
			t.Fatal("development key not generated once and kept")
		}
		if string(first.TwoFactorKeys[0]) == string(first.JWTSecret) || string(first.TwoFactorKeys[0]) == string(first.SessionSecret) {
			t.Fatal("the development key equals another secret")
		}
		info, err := os.Stat(filepath.Join(dir, "2fa.key"))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("2fa.key: %v, mode %v", err, info.Mode().Perm())
		}
		if got := summaryValue(second, "twoFactorKeys"); !strings.Contains(got, "2fa.key") {
			t.Errorf("summary says %q, want the file", got)
		}
	})
	t.Run("NeverPrinted", func(t *testing.T) {
		c, err := Load("serve", nil, env(prod(k1+","+k2)), "", &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "%v %+v", c, c)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", c, "summary", c.Summary())
		if strings.Contains(buf.String(), k1) || strings.Contains(buf.String(), k2) {
			t.Fatal("a key was printed")
		}
	})
	t.Run("NotReadByOtherCommands", func(t *testing.T) {
		c, err := Load("migrate", nil, env(prod("too-short")), "", &bytes.Buffer{})
		if err != nil || len(c.TwoFactorKeys) != 0 {
			t.Fatalf("migrate read PALISADE_2FA_KEYS: %v", err)
		}
	})
}

// summaryValue is the start-up summary's value for key.
func summaryValue(c *Config, key string) string {
	for _, a := range c.Summary() {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}

func TestRequire2FA(t *testing.T) {
	for _, tc := range []struct{ value, want string }{{"", Require2FAAdmins}, {"admins", "admins"}, {"all", "all"}, {"none", "none"}} {
		t.Run("Accepts"+tc.want+tc.value, func(t *testing.T) {
			c, err := Load("serve", nil, env(map[string]string{"PALISADE_REQUIRE_2FA": tc.value}), "", &bytes.Buffer{})
			if err != nil || c.Require2FA != tc.want {
				t.Fatalf("Require2FA = %q, %v; want %q", c.Require2FA, err, tc.want)
			}
			if got := summaryValue(c, "require2FA"); got != tc.want {
				t.Errorf("summary says %q", got)
			}
		})
	}
	for _, v := range []string{"admin", "yes", "ALL", "off"} {
		t.Run("Refuses"+v, func(t *testing.T) {
			_, err := Load("serve", nil, env(map[string]string{"PALISADE_REQUIRE_2FA": v}), "", &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), "PALISADE_REQUIRE_2FA") || !strings.Contains(err.Error(), "admins") {
				t.Fatalf("err = %v, want one naming the variable and the choices", err)
			}
		})
	}

	// In production without keys, the warning says what the policy
	// then means for the people it covers.
	// On a domain name passkeys need no key, and the warning says to add
	// one; on an IP address there are no passkeys.
	prod := func(policy, base string) map[string]string {
		return map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": base,
			"PALISADE_JWT_SECRET": randomSecret(t, 48), "PALISADE_SESSION_SECRET": randomSecret(t, 48), "PALISADE_REQUIRE_2FA": policy}
	}
	for _, tt := range []struct{ policy, base, want string }{
		{"admins", "https://blog.example", "admins can't set up an authenticator app until it is, so each must add a passkey"},
		{"all", "https://blog.example", "no account can set up an authenticator app until it is, so each must add a passkey"},
		{"none", "https://blog.example", "nobody can set up an authenticator app until it is (passkeys work without it)"},
		{"admins", "https://192.0.2.7", "admins can't set one up (passkeys need a domain name"},
		{"all", "https://192.0.2.7", "no account can set one up (passkeys need a domain name"},
		{"none", "https://192.0.2.7", "nobody can set up two-factor sign-in"},
	} {
		t.Run("WarningWithoutKeys"+tt.policy+"On"+tt.base[len("https://"):], func(t *testing.T) {
			policy, want := tt.policy, tt.want
			c, err := Load("serve", nil, env(prod(policy, tt.base)), "", &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(c.Warnings, func(w string) bool {
				return strings.Contains(w, "PALISADE_2FA_KEYS") && strings.Contains(w, want)
			}) {
				t.Fatalf("warnings %q, want one saying %q", c.Warnings, want)
			}
		})
	}
}

// TestRekeyCommandReadsOnlyTheTwoFactorKeys: "user rekey-2fa" needs the
// keys, and no other secret.
func TestRekeyCommandReadsOnlyTheTwoFactorKeys(t *testing.T) {
	k := randomSecret(t, 48)
	vars := map[string]string{"PALISADE_2FA_KEYS": k, "PALISADE_JWT_SECRET": randomSecret(t, 48)}
	c, err := Load(RekeyCommand, nil, env(vars), "", &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TwoFactorKeys) != 1 || string(c.TwoFactorKeys[0]) != k || len(c.JWTSecret) != 0 {
		t.Fatalf("keys %d, JWT secret %d bytes: want the key and no JWT secret", len(c.TwoFactorKeys), len(c.JWTSecret))
	}
	vars["PALISADE_2FA_KEYS"] = "too-short"
	if _, err := Load(RekeyCommand, nil, env(vars), "", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "PALISADE_2FA_KEYS") {
		t.Fatalf("err = %v, want a short key refused", err)
	}
	if _, err := Load("user", nil, env(vars), "", &bytes.Buffer{}); err != nil {
		t.Fatalf("other user commands read the keys: %v", err)
	}
}
