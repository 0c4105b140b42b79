// Package logging sets up Palisade's structured logs (log/slog): one line
// per request, one line per security event, and a last line of defence that
// blanks any attribute whose name says it holds a credential.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
)

// New returns a logger writing to w at level in format "json" or "text";
// "" picks text when w is a terminal and JSON otherwise (for collectors).
func New(w io.Writer, level slog.Level, format string) *slog.Logger {
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// sensitive lists fragments of attribute names whose values are never
// logged. Code should not log such values at all; this catches the mistake.
var sensitive = []string{"password", "passwd", "secret", "token", "authorization", "cookie", "session"}

// redact blanks an attribute whose own name, or the name of any group it
// is in, says it holds a credential. (A struct logged whole with slog.Any
// is encoded without passing its fields through here: log fields, not
// structs that may hold secrets.)
func redact(groups []string, a slog.Attr) slog.Attr {
	if isSensitive(a.Key) {
		return slog.String(a.Key, "[redacted]")
	}
	for _, g := range groups {
		if isSensitive(g) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	return a
}

// isSensitive reports whether name contains a sensitive fragment, in any
// case. It runs for every attribute of every log line, so it compares in
// place instead of lower-casing (which would allocate).
func isSensitive(name string) bool {
	for _, s := range sensitive {
		for i := 0; i+len(s) <= len(name); i++ {
			if strings.EqualFold(name[i:i+len(s)], s) {
				return true
			}
		}
	}
	return false
}

// Discard returns a logger that writes nothing, for tests and tools.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// entry is the per-request state the access log and security events share.
type entry struct {
	requestID string
	client    string
	user      string
}

type entryKey struct{}

func entryFrom(ctx context.Context) *entry {
	e, _ := ctx.Value(entryKey{}).(*entry)
	return e
}

// SetUser records who made the request, once authenticated, so the request
// line and later security events name them.
func SetUser(ctx context.Context, userID string) {
	if e := entryFrom(ctx); e != nil {
		e.user = userID
	}
}

// Security logs one security event that may be an attack (sign-in
// failure, rate-limit hit, CSRF rejection…), at WARN, with the request ID,
// client and user of the request in ctx. Attributes must never carry
// passwords, tokens or cookies.
func Security(ctx context.Context, log *slog.Logger, event string, attrs ...slog.Attr) {
	securityAt(ctx, log, slog.LevelWarn, event, attrs)
}

// Audit logs a security event that is the normal course of things (a
// sign-in, a registration): the same "security" line as Security, counted
// the same way by /metrics, but at INFO, so that WARN stays for what may
// be an attack.
func Audit(ctx context.Context, log *slog.Logger, event string, attrs ...slog.Attr) {
	securityAt(ctx, log, slog.LevelInfo, event, attrs)
}

func securityAt(ctx context.Context, log *slog.Logger, level slog.Level, event string, attrs []slog.Attr) {
	all := make([]slog.Attr, 0, 4+len(attrs))
	all = append(all, slog.String("event", event))
	if e := entryFrom(ctx); e != nil {
		all = append(all, slog.String("requestId", e.requestID), slog.String("client", e.client))
		if e.user != "" {
			all = append(all, slog.String("user", e.user))
		}
	}
	all = append(all, attrs...)
	log.LogAttrs(ctx, level, "security", all...)
}
