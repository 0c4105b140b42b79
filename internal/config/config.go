// Package config reads Palisade's configuration from flags, the
// environment and a .env file (in that order of precedence), checks every
// value once at start-up, and keeps secrets out of anything printed.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/palisade-blog/palisade/httpsec"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// MinSecretLen is the shortest secret accepted: 256 bits, the size of the
// HMAC-SHA-256 key it feeds.
const MinSecretLen = 32

// Secret is a byte string that never prints: fmt, slog and JSON all see
// "[redacted]".
type Secret []byte

// String implements fmt.Stringer.
func (Secret) String() string { return "[redacted]" }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText implements encoding.TextMarshaler (JSON, among others).
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Config is the whole, validated configuration.
type Config struct {
	Env              string
	Addr             string
	BaseURL          *url.URL
	DataDir          string
	DatabaseURL      string // "" means SQLite in DataDir
	RedisURL         string
	RedisPrefix      string
	JWTSecret        Secret
	SessionSecret    Secret
	JWTTTL           time.Duration
	RateLimit        httpsec.Rate
	LoginRateLimit   httpsec.Rate
	CORSOrigins      []string
	TrustedProxies   []netip.Prefix
	TLSCert          string
	TLSKey           string
	HTTPRedirectAddr string
	LogLevel         slog.Level
	LogFormat        string // "text", "json", or "" to choose by whether stderr is a terminal
	Metrics          bool   // serve GET /metrics
}

// Production reports whether Palisade runs in production mode.
func (c *Config) Production() bool { return c.Env == Production }

// UsesPostgres reports whether DatabaseURL selects PostgreSQL.
func (c *Config) UsesPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// UsesMongo reports whether DatabaseURL selects MongoDB.
func (c *Config) UsesMongo() bool {
	return strings.HasPrefix(c.DatabaseURL, "mongodb://") || strings.HasPrefix(c.DatabaseURL, "mongodb+srv://")
}

// SQLitePath is the database file used when DatabaseURL is empty.
func (c *Config) SQLitePath() string { return c.DataDir + string(os.PathSeparator) + "palisade.db" }

// setting is one configuration value: its variable, flag, default and how
// to read it into Config.
type setting struct {
	env, flag, def, usage string
	secret                bool // no flag: a command line is visible to every user of the machine
	set                   func(c *Config, v string) error
}

var settings = []setting{
	{env: "PALISADE_ENV", flag: "env", def: Development, usage: "development or production", set: func(c *Config, v string) error {
		if v != Development && v != Production {
			return errors.New("must be development or production")
		}
		c.Env = v
		return nil
	}},
	{env: "PALISADE_ADDR", flag: "addr", def: "127.0.0.1:3000", usage: "listen address host:port", set: func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return errors.New("must be host:port")
		}
		c.Addr = v
		return nil
	}},
	{env: "PALISADE_BASE_URL", flag: "base-url", def: "http://127.0.0.1:3000", usage: "public origin, e.g. https://blog.example.com", set: func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("must be an origin such as https://blog.example.com")
		}
		u.Path = ""
		c.BaseURL = u
		return nil
	}},
	{env: "PALISADE_DATA_DIR", flag: "data-dir", def: "./data", usage: "directory for the SQLite file and generated development secrets", set: func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.DataDir = v
		return nil
	}},
	{env: "PALISADE_DATABASE_URL", flag: "database-url", usage: "postgres://… or mongodb://…; empty for SQLite in the data dir", set: func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql" && u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
				return errors.New("must be a postgres:// or mongodb:// URL")
			}
		}
		c.DatabaseURL = v
		return nil
	}},
	{env: "PALISADE_REDIS_URL", flag: "redis-url", usage: "redis://… to share sessions, rate limits and revocations between instances", set: func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
				return errors.New("must be a redis:// or rediss:// URL")
			}
		}
		c.RedisURL = v
		return nil
	}},
	{env: "PALISADE_REDIS_PREFIX", flag: "redis-prefix", def: "palisade:", usage: "prefix of every Redis key, to share one Redis between deployments", set: func(c *Config, v string) error {
		if v == "" || len(v) > 64 || strings.ContainsAny(v, " \t\r\n*?[]") {
			return errors.New("must be 1 to 64 characters without spaces or glob characters")
		}
		c.RedisPrefix = v
		return nil
	}},
	{env: "PALISADE_JWT_SECRET", secret: true, set: func(c *Config, v string) error { c.JWTSecret = Secret(v); return nil }},
	{env: "PALISADE_SESSION_SECRET", secret: true, set: func(c *Config, v string) error { c.SessionSecret = Secret(v); return nil }},
	{env: "PALISADE_JWT_TTL", flag: "jwt-ttl", def: "15m", usage: "lifetime of a sign-in token (1m to 24h)", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 24*time.Hour {
			return errors.New("must be a duration from 1m to 24h")
		}
		c.JWTTTL = d
		return nil
	}},
	{env: "PALISADE_RATE_LIMIT", flag: "rate-limit", def: "100/15m", usage: "requests per client, as N/duration", set: func(c *Config, v string) (err error) {
		c.RateLimit, err = httpsec.ParseRate(v)
		return err
	}},
	{env: "PALISADE_LOGIN_RATE_LIMIT", flag: "login-rate-limit", def: "5/15m", usage: "failed sign-ins per client and per account, as N/duration", set: func(c *Config, v string) (err error) {
		c.LoginRateLimit, err = httpsec.ParseRate(v)
		return err
	}},
	{env: "PALISADE_CORS_ORIGINS", flag: "cors-origins", usage: "comma-separated origins allowed to call the API from a browser", set: func(c *Config, v string) error {
		c.CORSOrigins = nil
		for _, o := range splitList(v) {
			if o == "*" {
				c.CORSOrigins = append(c.CORSOrigins, o)
				continue
			}
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.User != nil {
				return fmt.Errorf("%q is not an origin such as https://app.example.com", o)
			}
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
		return nil
	}},
	{env: "PALISADE_TRUSTED_PROXIES", flag: "trusted-proxies", usage: "comma-separated CIDRs whose X-Forwarded-For/-Proto are believed", set: func(c *Config, v string) (err error) {
		c.TrustedProxies, err = httpsec.ParseTrustedProxies(v)
		return err
	}},
	{env: "PALISADE_TLS_CERT", flag: "tls-cert", usage: "certificate file (PEM) to serve HTTPS", set: func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{env: "PALISADE_TLS_KEY", flag: "tls-key", usage: "private key file (PEM) to serve HTTPS", set: func(c *Config, v string) error { c.TLSKey = v; return nil }},
	{env: "PALISADE_HTTP_REDIRECT_ADDR", flag: "http-redirect-addr", usage: "address of a plain-HTTP listener that redirects to HTTPS", set: func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return errors.New("must be host:port")
			}
		}
		c.HTTPRedirectAddr = v
		return nil
	}},
	{env: "PALISADE_LOG_LEVEL", flag: "log-level", def: "info", usage: "debug, info, warn or error", set: func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{env: "PALISADE_LOG_FORMAT", flag: "log-format", usage: "text or json (default: text on a terminal, else json)", set: func(c *Config, v string) error {
		if v != "" && v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	}},
	{env: "PALISADE_METRICS", flag: "metrics", def: "off", usage: "on to serve GET /metrics (Prometheus text format)", set: func(c *Config, v string) error {
		switch v {
		case "on", "true", "1":
			c.Metrics = true
		case "off", "false", "0":
			c.Metrics = false
		default:
			return errors.New("must be on or off")
		}
		return nil
	}},
}

// Load builds the configuration of one command. Each value comes from, in
// order: its flag in args, the environment (getenv), the .env file at
// dotenvPath (skipped if it does not exist), its default. The error names
// the variable and says what is wrong, in one line. flag.ErrHelp is
// returned, after printing usage to out, when args ask for help.
func Load(name string, args []string, getenv func(string) string, dotenvPath string, out io.Writer) (*Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	flags := make(map[string]*string)
	for _, s := range settings {
		if s.secret {
			continue
		}
		flags[s.env] = fs.String(s.flag, "", fmt.Sprintf("%s (%s, default %q)", s.usage, s.env, s.def))
	}
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: palisade %s [flags]\n\nEach flag may also be set with the variable named beside it, in the environment or a .env file.\nSecrets (PALISADE_JWT_SECRET, PALISADE_SESSION_SECRET) are read from the environment only.\n\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	dotenv, err := readDotenv(dotenvPath)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	for _, s := range settings {
		v, ok := s.def, false
		if p := flags[s.env]; p != nil && set[s.flag] {
			v, ok = *p, true
		}
		if !ok {
			if ev, present := lookup(getenv, s.env); present {
				v, ok = ev, true
			}
		}
		if !ok {
			if dv, present := dotenv[s.env]; present {
				v = dv
			}
		}
		if err := s.set(c, strings.TrimSpace(v)); err != nil {
			if s.secret {
				return nil, fmt.Errorf("%s: %v", s.env, err) // never the value
			}
			return nil, fmt.Errorf("%s: invalid value %q: %v", s.env, v, err)
		}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// lookup treats an empty variable as unset, as most shells make it hard to
// tell the two apart.
func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

func readDotenv(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	m, err := godotenv.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %v", path, err)
	}
	return m, nil
}

// check validates what involves more than one value.
func (c *Config) check() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("PALISADE_TLS_CERT and PALISADE_TLS_KEY must be set together")
	}
	if c.HTTPRedirectAddr != "" && c.TLSCert == "" {
		return errors.New("PALISADE_HTTP_REDIRECT_ADDR: needs PALISADE_TLS_CERT and PALISADE_TLS_KEY")
	}
	for _, name := range []struct {
		env string
		v   Secret
	}{{"PALISADE_JWT_SECRET", c.JWTSecret}, {"PALISADE_SESSION_SECRET", c.SessionSecret}} {
		switch {
		case len(name.v) == 0 && c.Production():
			return fmt.Errorf("%s: required in production (at least %d bytes, e.g. from `openssl rand -base64 48`)", name.env, MinSecretLen)
		case len(name.v) > 0 && len(name.v) < MinSecretLen:
			return fmt.Errorf("%s: too short (%d bytes), use at least %d", name.env, len(name.v), MinSecretLen)
		}
	}
	if c.Production() && c.BaseURL.Scheme != "https" {
		return errors.New("PALISADE_BASE_URL: must be https:// in production (cookies are Secure there)")
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
