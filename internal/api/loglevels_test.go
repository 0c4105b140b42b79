package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLogLevelsAndDurationUnit: a registration, a successful sign-in and
// a sign-out are security events at INFO, a failed sign-in and a revoked
// token's use stay at WARN, and request
// lines give their duration in microseconds, the unit in the name.
func TestLogLevelsAndDurationUnit(t *testing.T) {
	ts := newServer(t, nil)
	ts.Register(t, "alice")
	token := ts.Login(t, "alice")
	ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": "not the password at all"})
	ts.Post(t, "/auth/logout", token, nil)
	ts.Get(t, "/users/me", token)

	levels := map[string]string{}
	requests := 0
	for _, line := range strings.Split(strings.TrimSpace(ts.Logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		switch m["msg"] {
		case "security":
			levels[m["event"].(string)] = m["level"].(string)
		case "request":
			requests++
			if us, ok := m["durationMicros"].(float64); !ok || us < 0 || us != float64(int64(us)) {
				t.Errorf("request line without durationMicros, an integer: %s", line)
			}
			if _, ok := m["duration"]; ok {
				t.Errorf("request line with a duration of no unit: %s", line)
			}
		}
	}
	for event, want := range map[string]string{
		"user.registered": "INFO", "login.success": "INFO", "token.revoked": "INFO", // the user's own doing
		"login.failure": "WARN", "auth.rejected": "WARN", // maybe an attack
	} {
		if levels[event] != want {
			t.Errorf("%s logged at %q, want %s", event, levels[event], want)
		}
	}
	if requests < 3 {
		t.Errorf("%d request lines", requests)
	}
}
