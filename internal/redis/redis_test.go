package redis

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
)

// deadURL points at a port nothing listens on (1 is reserved and unused
// on loopback), so dialing it is refused at once.
const deadURL = "redis://127.0.0.1:1/0"

// secret stands in for a real password in URLs; no error may contain it.
const secret = "s3cret-Pa55word"

// wantNoSecret fails the test if err, or anything it wraps, mentions the
// password.
func wantNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), secret) || strings.Contains(e.Error(), "s3cret") {
			t.Errorf("error leaks the password: %q", e.Error())
		}
	}
}

// boundedCall is what within allows a call that must give up by itself:
// its budget (4 s at most, see Client.bound) with room to spare.
const boundedCall = 10 * time.Second

// within fails the test if f takes longer than limit, and returns f's
// error. It proves a call is bounded (gives up by itself instead of
// waiting on a dead server for ever), not that it is fast: the limits are
// several times the budgets, so a busy machine does not fail it.
func within(t *testing.T, limit time.Duration, f func() error) error {
	t.Helper()
	start := time.Now()
	err := f()
	if took := time.Since(start); took > limit {
		t.Errorf("took %v, want under %v (err: %v)", took, limit, err)
	}
	return err
}

func TestOpen(t *testing.T) {
	t.Parallel()

	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		c, err := Open(context.Background(), testURL(t), Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer func() { _ = c.Close() }()
		if want := DefaultPoolWait + dialTimeout + DefaultTimeout; c.prefix != DefaultPrefix || c.budget != want {
			t.Errorf("prefix %q budget %v, want %q %v", c.prefix, c.budget, DefaultPrefix, want)
		}
		if got := c.rdb.Options().PoolSize; got < DefaultPoolSize {
			t.Errorf("pool size %d, want at least %d", got, DefaultPoolSize)
		}
		if err := c.Ping(context.Background()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})

	t.Run("dead port fails quickly", func(t *testing.T) {
		t.Parallel()
		err := within(t, boundedCall, func() error {
			_, err := Open(context.Background(), deadURL, Options{})
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("Open(dead port) = %v, want an error naming the address", err)
		}
	})

	t.Run("errors never contain the password", func(t *testing.T) {
		t.Parallel()
		for name, u := range map[string]string{
			"dead port":         "redis://alice:" + secret + "@127.0.0.1:1/0",
			"password only":     "redis://:" + secret + "@127.0.0.1:1/0",
			"bad escape":        "redis://alice:" + secret + "%zz@127.0.0.1:1/0",
			"slash in password": "redis://alice:s3cret/Pa55@word@127.0.0.1:1/0",
			"bad port":          "redis://alice:" + secret + "@127.0.0.1:port/0",
			"unknown option":    "redis://alice:" + secret + "@127.0.0.1:1/0?bogus=1",
			"bad database":      "redis://alice:" + secret + "@127.0.0.1:1/zero",
			"bad scheme":        "http://alice:" + secret + "@127.0.0.1:1/0",
			"no scheme":         "alice:" + secret + "@127.0.0.1:1",
			"space":             "redis://alice:" + secret + " @127.0.0.1:1/0",
		} {
			t.Run(name, func(t *testing.T) {
				_, err := Open(context.Background(), u, Options{})
				wantNoSecret(t, err)
			})
		}
	})

	t.Run("wrong password on the real server", func(t *testing.T) {
		t.Parallel()
		u, err := url.Parse(testURL(t))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword("palisade-nobody", secret)
		_, err = Open(context.Background(), u.String(), Options{})
		wantNoSecret(t, err)
	})
}

func TestWithoutCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0", true},
		{"redis://u:p@host:6379/0", "redis://xxxxx@host:6379/0", true},
		{"rediss://u:p/w@d@host/0?x=1", "rediss://xxxxx@host/0?x=1", true},
		{"unix://u:p@/run/redis.sock", "unix://xxxxx@/run/redis.sock", true},
		{"u:p@host:6379", "", false},
		{"u:p@redis://host", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := withoutCredentials(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("withoutCredentials(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	rate := httpsec.Rate{Limit: 10, Window: time.Minute}

	t.Run("closed client", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		err := within(t, boundedCall, func() error {
			_, err := c.Limiter(rate).Take(context.Background(), "k")
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "limiter take") {
			t.Errorf("Take on a closed client = %v, want a wrapped error", err)
		}
		if _, _, err := c.Sessions().FindSession(context.Background(), "k"); err == nil {
			t.Errorf("FindSession on a closed client: no error")
		}
		if err := c.Ping(context.Background()); err == nil {
			t.Errorf("Ping on a closed client: no error")
		}
	})

	t.Run("canceled context", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Limiter(rate).Take(ctx, "k")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Take with a canceled context = %v, want context.Canceled", err)
		}
	})

	t.Run("server goes away", func(t *testing.T) {
		t.Parallel()
		proxy, u := startProxy(t)
		c := openURL(t, u, testPrefix(t), Options{})
		l := c.Limiter(rate)
		take(t, l, "k")
		proxy.Stop()
		for i := range 3 {
			err := within(t, boundedCall, func() error {
				_, err := l.Take(context.Background(), "k")
				return err
			})
			if err == nil {
				t.Errorf("Take %d after the server went away: no error", i)
			}
		}
	})

	t.Run("server stops answering", func(t *testing.T) {
		t.Parallel()
		proxy, u := startProxy(t)
		c := openURL(t, u, testPrefix(t), Options{})
		l := c.Limiter(rate)
		s := c.Sessions()
		take(t, l, "k")
		proxy.Hang()
		// Each call gives up after about Timeout (1s) instead of waiting
		// on a connection that will never answer; the later ones dial
		// afresh into the same silence.
		for i := range 3 {
			err := within(t, boundedCall, func() error {
				_, err := l.Take(context.Background(), "k")
				return err
			})
			if err == nil {
				t.Errorf("Take %d on a silent server: no error", i)
			}
		}
		err := within(t, boundedCall, func() error {
			return s.SaveSession(context.Background(), "k", []byte("x"), time.Now().Add(time.Minute))
		})
		if err == nil {
			t.Errorf("SaveSession on a silent server: no error")
		}
	})

	t.Run("open against a silent server", func(t *testing.T) {
		t.Parallel()
		proxy, u := startProxy(t)
		proxy.Hang()
		// Open allows the dial timeout (2s) plus one call's timeout.
		err := within(t, boundedCall, func() error {
			_, err := Open(context.Background(), u, Options{})
			return err
		})
		if err == nil {
			t.Errorf("Open on a silent server: no error")
		}
	})
}
