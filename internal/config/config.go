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
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/joho/godotenv"

	"github.com/palisade-blog/palisade/httpsec"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// Second-factor policies (PALISADE_REQUIRE_2FA).
const (
	// Require2FAAdmins: every admin must set up a second factor.
	Require2FAAdmins = "admins"
	// Require2FAAll: every account must.
	Require2FAAll = "all"
	// Require2FANone: each user chooses.
	Require2FANone = "none"
)

// Registration policies (PALISADE_REGISTRATION).
const (
	// RegistrationInvite: only with a single-use invite link from an admin.
	RegistrationInvite = "invite"
	// RegistrationOpen: anyone may register (the tutorial's behaviour).
	RegistrationOpen = "open"
	// RegistrationClosed: accounts are made on the command line only.
	RegistrationClosed = "closed"
)

// The bounds of PALISADE_BACKUP_INTERVAL.
const (
	MinBackupInterval = time.Minute
	MaxBackupInterval = 30 * 24 * time.Hour
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

// ErrUsage marks a command-line mistake: an unknown flag or a stray
// argument. The command prints its usage and exits 2.
var ErrUsage = errors.New("usage")

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
	// Registration is who may create an account through the API and the
	// website: RegistrationInvite, RegistrationOpen or RegistrationClosed.
	Registration string
	// Require2FA is who must sign in with a second factor:
	// Require2FAAdmins, Require2FAAll or Require2FANone.
	Require2FA string
	// TwoFactorKeys encrypt second-factor secrets (TOTP) at rest, newest
	// first: the first seals, any opens (see package sealed). Empty in a
	// production deployment that has not set them: it still starts, but
	// enrolment in two-factor sign-in must be refused until they are.
	TwoFactorKeys []Secret
	// BackupDir, when set, is where serve writes a backup every
	// BackupInterval, keeping the newest BackupKeep.
	BackupDir      string
	BackupInterval time.Duration
	BackupKeep     int
	// BackupRecipients, if any, encrypt every backup with age (the
	// scheduled ones, and "palisade backup" without --age-recipient).
	BackupRecipients []age.Recipient

	// Warnings are problems that do not stop start-up (an unknown
	// PALISADE_ variable in .env, a weak secret in development), for the
	// command to log once it has a logger. None holds a secret.
	Warnings []string
	// DotenvPath is the .env file that was read, or "" if none was.
	DotenvPath string
	// secretFrom says where each secret came from (environment, .env,
	// generated, data dir), for the start-up summary.
	jwtSecretFrom, sessionSecretFrom, twoFactorKeysFrom string
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

// usesSecrets reports whether the command named name signs or seals
// anything. Only serve does: migrate and user neither need nor read the
// secrets, so they run in production without them.
func usesSecrets(name string) bool { return name == "serve" }

// RekeyCommand is the name under which "palisade user rekey-2fa" loads
// its configuration: of the secrets, it reads PALISADE_2FA_KEYS only.
const RekeyCommand = "user rekey-2fa"

// readsSecret reports whether the command named name reads the secret
// env.
func readsSecret(name, env string) bool {
	return usesSecrets(name) || name == RekeyCommand && env == "PALISADE_2FA_KEYS"
}

// setting is one configuration value: its variable, flag, default and how
// to read it into Config.
type setting struct {
	env, flag, def, usage string
	secret                bool // no flag: a command line is visible to every user of the machine
	quiet                 bool // an error never quotes the value (a secret pasted in the wrong place)
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
	{env: "PALISADE_2FA_KEYS", secret: true, set: func(c *Config, v string) error {
		c.TwoFactorKeys = nil
		for _, k := range splitList(v) {
			c.TwoFactorKeys = append(c.TwoFactorKeys, Secret(k))
		}
		return nil
	}},
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
	{env: "PALISADE_REGISTRATION", flag: "registration", def: RegistrationInvite, usage: "who may register: invite (with an admin's invite link), open (anyone) or closed (command line only)", set: func(c *Config, v string) error {
		if v != RegistrationInvite && v != RegistrationOpen && v != RegistrationClosed {
			return errors.New("must be invite, open or closed")
		}
		c.Registration = v
		return nil
	}},
	{env: "PALISADE_REQUIRE_2FA", flag: "require-2fa", def: Require2FAAdmins, usage: "who must sign in with a second factor (an authenticator app): admins, all or none", set: func(c *Config, v string) error {
		if v != Require2FAAdmins && v != Require2FAAll && v != Require2FANone {
			return errors.New("must be admins (every admin needs a second factor), all (every account does) or none (each user chooses)")
		}
		c.Require2FA = v
		return nil
	}},
	{env: "PALISADE_BACKUP_DIR", flag: "backup-dir", usage: "directory for scheduled backups (serve); empty for none", set: func(c *Config, v string) error {
		c.BackupDir = v
		return nil
	}},
	{env: "PALISADE_BACKUP_INTERVAL", flag: "backup-interval", def: "24h", usage: "time between scheduled backups (1m to 720h)", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < MinBackupInterval || d > MaxBackupInterval {
			return errors.New("must be a duration from 1m to 720h (30 days)")
		}
		c.BackupInterval = d
		return nil
	}},
	{env: "PALISADE_BACKUP_KEEP", flag: "backup-keep", def: "7", usage: "scheduled backups kept, the newest (1 to 1000)", set: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errors.New("must be a whole number from 1 to 1000")
		}
		c.BackupKeep = n
		return nil
	}},
	{env: "PALISADE_BACKUP_AGE_RECIPIENTS", flag: "backup-age-recipients", quiet: true, usage: "comma-separated age public keys (age1…) that every backup is encrypted for", set: func(c *Config, v string) error {
		c.BackupRecipients = nil
		for _, k := range splitList(v) {
			rs, err := age.ParseRecipients(strings.NewReader(k))
			if err != nil {
				return errors.New("not an age public key (age1…)")
			}
			c.BackupRecipients = append(c.BackupRecipients, rs...)
		}
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
// returned, after printing usage to out, when args ask for help; a
// command-line mistake returns an error wrapping ErrUsage, having printed
// nothing (the caller prints usage once, see PrintUsage).
func Load(name string, args []string, getenv func(string) string, dotenvPath string, out io.Writer) (*Config, error) {
	fs, flags := newFlagSet(name)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			PrintUsage(name, out)
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	dotenv, err := readDotenv(dotenvPath)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	if dotenv != nil {
		c.DotenvPath = dotenvPath
		c.Warnings = append(c.Warnings, UnknownVariables(mapKeys(dotenv), dotenvPath)...)
	}
	signs := usesSecrets(name)
	for _, s := range settings {
		if s.secret && !readsSecret(name, s.env) {
			continue // not read, so not held in memory either
		}
		v, ok, from := s.def, false, ""
		if p := flags[s.env]; p != nil && set[s.flag] {
			v, ok = *p, true
		}
		if !ok {
			if ev, present := lookup(getenv, s.env); present {
				v, ok, from = ev, true, "environment"
			}
		}
		if !ok {
			if dv, present := dotenv[s.env]; present {
				v, from = dv, dotenvPath
			}
		}
		if err := s.set(c, strings.TrimSpace(v)); err != nil {
			if s.secret || s.quiet {
				return nil, fmt.Errorf("%s: %v", s.env, err) // never the value
			}
			return nil, fmt.Errorf("%s: invalid value %q: %v", s.env, v, err)
		}
		switch s.env {
		case "PALISADE_JWT_SECRET":
			c.jwtSecretFrom = from
		case "PALISADE_SESSION_SECRET":
			c.sessionSecretFrom = from
		case "PALISADE_2FA_KEYS":
			c.twoFactorKeysFrom = from
		}
	}
	if err := c.check(signs); err != nil {
		return nil, err
	}
	if name == RekeyCommand {
		if err := c.checkTwoFactorKeys(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// newFlagSet declares one flag per setting that is not a secret. Its
// output is discarded: Load and PrintUsage say everything once.
func newFlagSet(name string) (*flag.FlagSet, map[string]*string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	flags := make(map[string]*string)
	for _, s := range settings {
		if s.secret {
			continue
		}
		flags[s.env] = fs.String(s.flag, "", fmt.Sprintf("%s (%s, default %q)", s.usage, s.env, s.def))
	}
	return fs, flags
}

// PrintUsage writes the flags of the command named name to w.
func PrintUsage(name string, w io.Writer) {
	fs, _ := newFlagSet(name)
	fs.SetOutput(w)
	fmt.Fprintf(w, "Usage: palisade %s [flags]\n\nEach flag may also be set with the variable named beside it, in the environment or a .env file.\n", name)
	if usesSecrets(name) {
		fmt.Fprint(w, "Secrets (PALISADE_JWT_SECRET, PALISADE_SESSION_SECRET, PALISADE_2FA_KEYS) have no flag: set them in the environment or .env.\n")
	}
	fmt.Fprintln(w)
	fs.PrintDefaults()
}

func mapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
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

// check validates what involves more than one value. signs says whether
// the command uses the secrets (see usesSecrets).
func (c *Config) check(signs bool) error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("PALISADE_TLS_CERT and PALISADE_TLS_KEY must be set together")
	}
	if c.HTTPRedirectAddr != "" && c.TLSCert == "" {
		return errors.New("PALISADE_HTTP_REDIRECT_ADDR: needs PALISADE_TLS_CERT and PALISADE_TLS_KEY")
	}
	if signs {
		if err := c.checkSecrets(); err != nil {
			return err
		}
	}
	if c.Production() && c.BaseURL.Scheme != "https" {
		return errors.New("PALISADE_BASE_URL: must be https:// in production (cookies are Secure there)")
	}
	return nil
}

// checkSecrets refuses, in production, a missing, short, placeholder or
// predictable secret, and the same value for both; in development, where
// missing secrets are generated, a short one is still refused and a weak
// one only warned about.
func (c *Config) checkSecrets() error {
	for _, s := range []struct {
		env string
		v   Secret
	}{{"PALISADE_JWT_SECRET", c.JWTSecret}, {"PALISADE_SESSION_SECRET", c.SessionSecret}} {
		if len(s.v) == 0 {
			if c.Production() {
				return fmt.Errorf("%s: required in production; %s", s.env, secretHint)
			}
			continue
		}
		if len(s.v) < MinSecretLen {
			return fmt.Errorf("%s: too short (%d bytes), use at least %d; %s", s.env, len(s.v), MinSecretLen, secretHint)
		}
		if problem := secretWeakness(s.v); problem != "" {
			if c.Production() {
				return fmt.Errorf("%s: %s; %s", s.env, problem, secretHint)
			}
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s (refused in production); %s", s.env, problem, secretHint))
		}
	}
	if len(c.JWTSecret) > 0 && string(c.JWTSecret) == string(c.SessionSecret) {
		const msg = "PALISADE_SESSION_SECRET: must differ from PALISADE_JWT_SECRET (one leaked key must not open both)"
		if c.Production() {
			return fmt.Errorf("%s; %s", msg, secretHint)
		}
		c.Warnings = append(c.Warnings, msg+" (refused in production)")
	}
	return c.checkTwoFactorKeys()
}

// checkTwoFactorKeys holds each PALISADE_2FA_KEYS key to the rules of the
// other secrets, with one exception: in production, no key at all is
// allowed. A deployment upgraded from a version without second factors
// must keep starting; until the keys are set it only cannot enrol anyone
// in two-factor sign-in, and says so in a warning at every start.
func (c *Config) checkTwoFactorKeys() error {
	const env = "PALISADE_2FA_KEYS"
	if len(c.TwoFactorKeys) == 0 {
		if c.Production() {
			c.Warnings = append(c.Warnings, c.missingKeysWarning())
		}
		return nil
	}
	seen := map[string]bool{}
	for i, k := range c.TwoFactorKeys {
		// Keys are named by position, never quoted.
		name := env
		if len(c.TwoFactorKeys) > 1 {
			name = fmt.Sprintf("%s (key %d of %d)", env, i+1, len(c.TwoFactorKeys))
		}
		if len(k) < MinSecretLen {
			return fmt.Errorf("%s: too short (%d bytes), use at least %d; %s", name, len(k), MinSecretLen, secretHint)
		}
		if seen[string(k)] {
			return fmt.Errorf("%s: the same key is listed twice", name)
		}
		seen[string(k)] = true
		problem := secretWeakness(k)
		if problem == "" && (string(k) == string(c.JWTSecret) || string(k) == string(c.SessionSecret)) {
			problem = "must differ from PALISADE_JWT_SECRET and PALISADE_SESSION_SECRET (one leaked key must not open the others)"
		}
		if problem != "" {
			if c.Production() {
				return fmt.Errorf("%s: %s; %s", name, problem, secretHint)
			}
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s (refused in production); %s", name, problem, secretHint))
		}
	}
	return nil
}

// missingKeysWarning says what a production start without
// PALISADE_2FA_KEYS means under the second-factor policy. Without the keys
// nobody can set up an authenticator app; passkeys need no key, so on a
// base URL with a domain name (passkeys are off on an IP address) an
// account the policy covers can still add one.
func (c *Config) missingKeysWarning() string {
	const env = "PALISADE_2FA_KEYS"
	passkeys := c.BaseURL != nil && net.ParseIP(c.BaseURL.Hostname()) == nil
	switch {
	case c.Require2FA == Require2FANone && passkeys:
		return env + ": not set; nobody can set up an authenticator app until it is (passkeys work without it); " + secretHint
	case c.Require2FA == Require2FANone:
		return env + ": not set; nobody can set up two-factor sign-in until it is; " + secretHint
	case c.Require2FA == Require2FAAll && passkeys:
		return env + ": not set, but PALISADE_REQUIRE_2FA=all requires a second factor: no account can set up an authenticator app until it is, so each must add a passkey on its account page to do anything but sign out; " + secretHint
	case c.Require2FA == Require2FAAll:
		return env + ": not set, but PALISADE_REQUIRE_2FA=all requires a second factor: no account can set one up (passkeys need a domain name in PALISADE_BASE_URL), so none can do anything but sign out, until it is set; " + secretHint
	case passkeys:
		return env + ": not set, but PALISADE_REQUIRE_2FA=admins requires a second factor for admins: admins can't set up an authenticator app until it is, so each must add a passkey on the account page to use the site; " + secretHint
	default:
		return env + ": not set, but PALISADE_REQUIRE_2FA=admins requires a second factor for admins: admins can't set one up (passkeys need a domain name in PALISADE_BASE_URL), so can't use the site, until it is set; " + secretHint
	}
}

// TwoFactorKeyBytes is TwoFactorKeys as the byte slices sealed.New takes,
// newest first.
func (c *Config) TwoFactorKeyBytes() [][]byte {
	out := make([][]byte, len(c.TwoFactorKeys))
	for i, k := range c.TwoFactorKeys {
		out[i] = k
	}
	return out
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
