package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// secretValue is logged under sensitive names; it must never be written.
const secretValue = "hunter2-SECRET-VALUE"

// jsonLines parses every line of buf as a JSON object.
func jsonLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// oneJSONLine parses buf, which must hold exactly one JSON log line.
func oneJSONLine(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	lines := jsonLines(t, buf)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1: %s", len(lines), buf)
	}
	return lines[0]
}

func TestNewFormats(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		New(&buf, slog.LevelInfo, "json").Info("hello", "count", 3)
		m := oneJSONLine(t, &buf)
		if m["msg"] != "hello" || m["level"] != "INFO" || m["count"] != float64(3) {
			t.Errorf("log line = %v", m)
		}
		if _, ok := m["time"]; !ok {
			t.Errorf("log line %v has no time", m)
		}
	})
	t.Run("text", func(t *testing.T) {
		var buf bytes.Buffer
		New(&buf, slog.LevelInfo, "text").Info("hello", "count", 3)
		line := buf.String()
		for _, want := range []string{"level=INFO", "msg=hello", "count=3"} {
			if !strings.Contains(line, want) {
				t.Errorf("text line %q lacks %q", line, want)
			}
		}
		if strings.HasPrefix(strings.TrimSpace(line), "{") {
			t.Errorf("text line %q looks like JSON", line)
		}
	})
	t.Run("default for non-terminal is json", func(t *testing.T) {
		var buf bytes.Buffer
		New(&buf, slog.LevelInfo, "").Info("hello")
		oneJSONLine(t, &buf)
	})
	t.Run("level filters", func(t *testing.T) {
		var buf bytes.Buffer
		log := New(&buf, slog.LevelWarn, "json")
		log.Info("dropped")
		log.Debug("dropped")
		log.Warn("kept")
		m := oneJSONLine(t, &buf)
		if m["msg"] != "kept" {
			t.Errorf("log line = %v, want the warning", m)
		}
	})
}

func TestRedaction(t *testing.T) {
	keys := []string{
		"password", "Password", "PASSWORD", "newPassword", "passwd",
		"token", "Token", "accessToken", "refresh_token", "csrfToken",
		"Authorization", "authorization", "AUTHORIZATION",
		"cookie", "Cookie", "Set-Cookie",
		"session", "Session", "sessionId",
		"secret", "SECRET", "jwtSecret", "client_secret",
	}
	for _, format := range []string{"json", "text"} {
		for _, key := range keys {
			t.Run(format+"/"+key, func(t *testing.T) {
				var buf bytes.Buffer
				New(&buf, slog.LevelInfo, format).Info("event", key, secretValue, "username", "bob")
				out := buf.String()
				if strings.Contains(out, secretValue) {
					t.Errorf("log %q contains the secret", out)
				}
				if !strings.Contains(out, "[redacted]") {
					t.Errorf("log %q does not mark %s as redacted", out, key)
				}
				if !strings.Contains(out, "bob") {
					t.Errorf("log %q dropped an ordinary attribute", out)
				}
			})
		}
	}
}

func TestRedactionJSONValue(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, slog.LevelInfo, "json").Info("event", "Authorization", "Bearer "+secretValue)
	m := oneJSONLine(t, &buf)
	if m["Authorization"] != "[redacted]" {
		t.Errorf("Authorization = %v, want [redacted]", m["Authorization"])
	}
}

func TestRedactionNested(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
	}{
		{"attribute in group", func(l *slog.Logger) {
			l.Info("event", slog.Group("request", slog.String("Authorization", secretValue)))
		}},
		{"attribute in nested groups", func(l *slog.Logger) {
			l.Info("event", slog.Group("a", slog.Group("b", slog.String("password", secretValue))))
		}},
		{"logger WithGroup", func(l *slog.Logger) {
			l.WithGroup("req").Info("event", "token", secretValue)
		}},
		{"logger With", func(l *slog.Logger) {
			l.With("secret", secretValue).Info("event")
		}},
		{"LogAttrs", func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelWarn, "event", slog.String("Cookie", secretValue))
		}},
		{"LogValuer", func(l *slog.Logger) {
			l.Info("event", "password", valuer{slog.StringValue(secretValue)})
		}},
		// A group whose own name says it holds a credential: every value
		// inside it is a credential too.
		{"group named session", func(l *slog.Logger) {
			l.Info("event", slog.Group("session", slog.String("id", secretValue)))
		}},
		{"group named cookie", func(l *slog.Logger) {
			l.WithGroup("cookie").Info("event", "value", secretValue)
		}},
		{"LogValuer resolving to group", func(l *slog.Logger) {
			l.Info("event", "password", valuer{slog.GroupValue(slog.String("plain", secretValue))})
		}},
	}
	for _, format := range []string{"json", "text"} {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				tt.log(New(&buf, slog.LevelInfo, format))
				if out := buf.String(); strings.Contains(out, secretValue) {
					t.Errorf("log %q contains the secret", out)
				}
			})
		}
	}
}

// valuer is a slog.LogValuer that resolves to v.
type valuer struct{ v slog.Value }

func (v valuer) LogValue() slog.Value { return v.v }

func TestDiscard(t *testing.T) {
	log := Discard()
	log.Error("nothing", "password", secretValue)
	Security(context.Background(), log, "test")
}

func TestSecurityOutsideMiddleware(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo, "json")
	ctx := context.Background()
	SetUser(ctx, "ignored") // no entry in ctx: must not panic
	Security(ctx, log, "csrf_rejected", slog.String("reason", "origin"))
	m := oneJSONLine(t, &buf)
	if m["msg"] != "security" || m["level"] != "WARN" || m["event"] != "csrf_rejected" || m["reason"] != "origin" {
		t.Errorf("log line = %v", m)
	}
	for _, k := range []string{"requestId", "client", "user"} {
		if _, ok := m[k]; ok {
			t.Errorf("log line %v has %s outside a request", m, k)
		}
	}
}

func TestSecurityRedactsAttributes(t *testing.T) {
	var buf bytes.Buffer
	Security(context.Background(), New(&buf, slog.LevelInfo, "json"), "signin_failed",
		slog.String("username", "bob"), slog.String("password", secretValue))
	m := oneJSONLine(t, &buf)
	if m["password"] != "[redacted]" || m["username"] != "bob" {
		t.Errorf("log line = %v", m)
	}
}

// TestAuditIsInfo: a sign-in or registration is logged as a security
// event at INFO; WARN is for what may be an attack.
func TestAuditIsInfo(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo, "json")
	Audit(context.Background(), log, "login.success")
	Security(context.Background(), log, "login.failure")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log:\n%s", buf.String())
	}
	for i, want := range []struct{ event, level string }{{"login.success", "INFO"}, {"login.failure", "WARN"}} {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatal(err)
		}
		if m["msg"] != "security" || m["event"] != want.event || m["level"] != want.level {
			t.Errorf("line %d = %v, want %s at %s", i, m, want.event, want.level)
		}
	}
}
