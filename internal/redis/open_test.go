package redis

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/blog"
)

// TestOpenErrorsExplain checks that a failed start-up says, in plain words,
// which server failed, what failed and what the operator should check:
// never the client-facing 503 text or the internal error struct, and not
// a bare "context deadline exceeded".
func TestOpenErrorsExplain(t *testing.T) {
	t.Parallel()
	real, err := url.Parse(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	tlsToPlain := *real
	tlsToPlain.Scheme = "rediss"
	wrongPassword := *real
	wrongPassword.User = url.UserPassword("palisade-nobody", secret)

	for _, tc := range []struct {
		name string
		url  string
		want []string
	}{
		{"rediss to a plaintext server", tlsToPlain.String(),
			[]string{"redis at " + real.Host + ": ", "TLS handshake failed", "plaintext", "use redis://"}},
		{"closed port", deadURL,
			[]string{"redis at 127.0.0.1:1: ", "connection refused", "is Redis running"}},
		{"wrong password", wrongPassword.String(),
			[]string{"redis at " + real.Host + ": ", "authentication failed", "password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(context.Background(), tc.url, Options{})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Logf("Open: %s", msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, bad := range []string{"blog error", "code=", "please retry", secret} {
				if strings.Contains(msg, bad) {
					t.Errorf("error %q contains %q", msg, bad)
				}
			}
			if msg == "context deadline exceeded" || strings.HasSuffix(msg, ": context deadline exceeded") && !strings.Contains(msg, "TLS") {
				t.Errorf("error %q does not say what failed", msg)
			}
			// Callers that map errors to HTTP still see an outage.
			if code := blog.ErrorCode(err); code != blog.EUNAVAILABLE {
				t.Errorf("code %q, want %q", code, blog.EUNAVAILABLE)
			}
			wantNoSecret(t, err)
		})
	}
}
