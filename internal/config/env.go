package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
)

// prefix starts the name of every variable Palisade reads.
const prefix = "PALISADE_"

// notSettings are PALISADE_ variables that are not settings of the server
// but are read by its tests and tools, so never reported as unknown: every
// name starting with PALISADE_TEST_ (the test services and browser), and
// these.
var notSettings = []string{"PALISADE_SCREENSHOT_DIR"}

// UnknownVariables returns one warning for each name in names that starts
// with PALISADE_ but is no setting (a misspelling is otherwise silently
// ignored), naming the nearest setting when one is close. where says where
// the names were found ("environment" or a .env path).
func UnknownVariables(names []string, where string) []string {
	var warnings []string
	for _, name := range slices.Sorted(slices.Values(names)) {
		if !strings.HasPrefix(name, prefix) || strings.HasPrefix(name, prefix+"TEST_") || slices.Contains(notSettings, name) || isSetting(name) {
			continue
		}
		w := fmt.Sprintf("unknown variable %s in the %s is ignored", name, where)
		if near := nearestSetting(name); near != "" {
			w += fmt.Sprintf(" (did you mean %s?)", near)
		}
		warnings = append(warnings, w)
	}
	return warnings
}

func isSetting(name string) bool {
	for _, s := range settings {
		if s.env == name {
			return true
		}
	}
	return false
}

// nearestSetting returns the setting whose name is within two edits of
// name (after the prefix), or equal to it but for underscores, or "".
func nearestSetting(name string) string {
	bare := strings.TrimPrefix(name, prefix)
	best, bestDist := "", 3
	for _, s := range settings {
		sb := strings.TrimPrefix(s.env, prefix)
		if strings.ReplaceAll(sb, "_", "") == strings.ReplaceAll(bare, "_", "") {
			return s.env
		}
		if d := editDistance(bare, sb); d < bestDist {
			best, bestDist = s.env, d
		}
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps
// of adjacent characters that turn a into b (optimal string alignment).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// Summary is the start-up line's attributes: where the data lives, the
// limits, which .env was read and where the secrets came from. It holds
// no secret and no URL's user info. (The key names avoid words such as
// "secret" and "session", which the logger blanks.)
func (c *Config) Summary() []slog.Attr {
	db := "sqlite " + c.SQLitePath()
	switch {
	case c.UsesPostgres():
		db = "postgres " + urlHost(c.DatabaseURL)
	case c.UsesMongo():
		db = "mongodb " + urlHost(c.DatabaseURL)
	}
	redis := "none"
	if c.RedisURL != "" {
		redis = urlHost(c.RedisURL)
	}
	dotenv := c.DotenvPath
	if dotenv == "" {
		dotenv = "none"
	}
	tls := "off"
	if c.TLSCert != "" {
		tls = c.TLSCert
	}
	return []slog.Attr{
		slog.String("env", c.Env),
		slog.String("addr", c.Addr),
		slog.String("baseURL", c.BaseURL.String()),
		slog.String("database", db),
		slog.String("redis", redis),
		slog.String("rateLimit", c.RateLimit.String()),
		slog.String("loginRateLimit", c.LoginRateLimit.String()),
		slog.String("jwtTTL", c.JWTTTL.String()),
		slog.String("tls", tls),
		slog.Bool("metrics", c.Metrics),
		slog.String("backups", c.backupSummary()),
		slog.String("registration", c.Registration),
		slog.String("require2FA", c.Require2FA),
		slog.String("dotenv", dotenv),
		slog.String("jwtKeyFrom", orNone(c.jwtSecretFrom)),
		slog.String("csrfKeyFrom", orNone(c.sessionSecretFrom)),
		slog.String("twoFactorKeys", c.twoFactorKeysSummary()),
	}
}

// backupSummary says where and how often serve writes backups, and for
// how many age recipients; never a key.
func (c *Config) backupSummary() string {
	if c.BackupDir == "" {
		return "none"
	}
	enc := "not encrypted"
	if n := len(c.BackupRecipients); n > 0 {
		enc = fmt.Sprintf("encrypted for %d age recipient(s)", n)
	}
	return fmt.Sprintf("%s every %s, keeping %d, %s", c.BackupDir, c.BackupInterval, c.BackupKeep, enc)
}

// twoFactorKeysSummary says whether PALISADE_2FA_KEYS is set, how many
// keys it holds and where they came from; never a key or its ID.
func (c *Config) twoFactorKeysSummary() string {
	if len(c.TwoFactorKeys) == 0 {
		return "none (two-factor enrolment off)"
	}
	n := "1 key"
	if len(c.TwoFactorKeys) > 1 {
		n = fmt.Sprintf("%d keys", len(c.TwoFactorKeys))
	}
	return n + ", " + orNone(c.twoFactorKeysFrom)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// urlHost is the host (and port) and path of a database or Redis URL,
// without its user info, password or query parameters.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Host + u.Path
}
