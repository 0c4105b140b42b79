package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
		c.Metrics {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	dotenv := filepath.Join(dir, ".env")
	os.WriteFile(dotenv, []byte("PALISADE_ADDR=127.0.0.1:4000\nPALISADE_RATE_LIMIT=10/1m\nPALISADE_LOG_LEVEL=debug\n"), 0o600)
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
		{"TLSHalf", map[string]string{"PALISADE_TLS_CERT": "c.pem"}, nil, "PALISADE_TLS_KEY"},
		{"ShortSecret", map[string]string{"PALISADE_JWT_SECRET": "short"}, nil, "PALISADE_JWT_SECRET"},
		{"UnknownFlag", nil, []string{"--nope"}, "nope"},
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

func TestProductionRefusesMissingSecrets(t *testing.T) {
	strong := strings.Repeat("s", MinSecretLen)
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
		{"ShortSession", with(map[string]string{"PALISADE_JWT_SECRET": strong, "PALISADE_SESSION_SECRET": strong[1:]}), "PALISADE_SESSION_SECRET"},
		{"PlainHTTPBaseURL", with(map[string]string{"PALISADE_JWT_SECRET": strong, "PALISADE_SESSION_SECRET": strong, "PALISADE_BASE_URL": "http://blog.example"}), "PALISADE_BASE_URL"},
		{"Honest", with(map[string]string{"PALISADE_JWT_SECRET": strong, "PALISADE_SESSION_SECRET": strong}), ""},
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
			if strings.Contains(err.Error(), strong[1:]) {
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
		os.Chmod(filepath.Join(dir, "jwt.secret"), 0o644)
		c, _ := Load("serve", []string{"--data-dir", dir}, env(nil), "", &bytes.Buffer{})
		if err := c.EnsureDevSecrets(); err == nil {
			t.Fatal("world-readable secret file accepted")
		}
	})
}
