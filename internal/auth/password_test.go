package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// cheapParams keep the suite fast; only TestDefaultParams pays for the real cost.
var cheapParams = HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheapParams, 0, 0)
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("format", func(t *testing.T) {
		if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Errorf("encoded = %q", enc)
		}
	})
	t.Run("right password", func(t *testing.T) {
		ok, err := h.Verify(ctx, "correct horse battery staple", enc)
		if err != nil || !ok {
			t.Errorf("Verify = %v, %v; want true, nil", ok, err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		for _, pw := range []string{"", "correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple "} {
			ok, err := h.Verify(ctx, pw, enc)
			if err != nil || ok {
				t.Errorf("Verify(%q) = %v, %v; want false, nil", pw, ok, err)
			}
		}
	})
	t.Run("salted", func(t *testing.T) {
		enc2, err := h.Hash(ctx, "correct horse battery staple")
		if err != nil {
			t.Fatal(err)
		}
		if enc2 == enc {
			t.Error("two hashes of the same password are equal")
		}
		if ok, _ := h.Verify(ctx, "correct horse battery staple", enc2); !ok {
			t.Error("second hash does not verify")
		}
	})
	t.Run("NFKC normalised", func(t *testing.T) {
		// "é" precomposed vs e + combining acute: the same password to a user.
		enc, err := h.Hash(ctx, "caf\u00e9")
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := h.Verify(ctx, "cafe\u0301", enc); !ok {
			t.Error("decomposed form does not verify")
		}
	})
	t.Run("verifies with the params in the hash", func(t *testing.T) {
		other := NewHasher(HashParams{Memory: 128, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 16}, 1, 0)
		enc, err := other.Hash(ctx, "pw")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := h.Verify(ctx, "pw", enc); err != nil || !ok {
			t.Errorf("Verify = %v, %v; want true, nil", ok, err)
		}
	})
}

func TestDefaultParams(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(DefaultParams, 1, 0)
	enc, err := h.Hash(ctx, "hunter2hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("encoded = %q", enc)
	}
	if ok, err := h.Verify(ctx, "hunter2hunter2", enc); err != nil || !ok {
		t.Errorf("Verify = %v, %v; want true, nil", ok, err)
	}
	if h.NeedsRehash(enc) {
		t.Error("NeedsRehash of a fresh hash")
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(cheapParams, 0, 0)
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, params, salt, key
	salt, key := parts[4], parts[5]
	withParams := func(p string) string { return "$argon2id$v=19$" + p + "$" + salt + "$" + key }

	cases := map[string]string{
		"empty":                  "",
		"argon2i":                "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"argon2d":                "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"bcrypt":                 "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"old version":            "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"missing version":        "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"missing key":            "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"extra field":            good + "$AAAA",
		"params out of order":    withParams("t=1,m=64,p=1"),
		"missing param":          withParams("m=64,t=1"),
		"extra param":            withParams("m=64,t=1,p=1,x=1"),
		"empty param":            withParams("m=,t=1,p=1"),
		"signed param":           withParams("m=+64,t=1,p=1"),
		"negative param":         withParams("m=-64,t=1,p=1"),
		"leading zero":           withParams("m=064,t=1,p=1"),
		"hex param":              withParams("m=0x40,t=1,p=1"),
		"param overflow":         withParams("m=4294967296,t=1,p=1"),
		"space in param":         withParams("m= 64,t=1,p=1"),
		"salt not base64":        "$argon2id$v=19$m=64,t=1,p=1$!!!!!!!!$" + key,
		"padded salt":            "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"key url alphabet":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.NewReplacer("+", "-", "/", "_").Replace(key) + "-_",
		"salt too short":         "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAA$" + key, // 7 bytes
		"salt too long":          "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 88) + "$" + key,
		"empty salt":             "$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"key too short":          "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAAAAAAAAAAAAAA", // 15 bytes
		"key too long":           "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 88),
		"non-canonical base64":   "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "B",
		"overlong string":        good + strings.Repeat("A", 300),
		"memory above 1 GiB":     withParams("m=1048577,t=1,p=1"),
		"memory huge":            withParams("m=4294967295,t=1,p=1"),
		"memory below 8 KiB/p":   withParams("m=8,t=1,p=2"),
		"time zero":              withParams("m=64,t=0,p=1"),
		"time above 32":          withParams("m=64,t=33,p=1"),
		"threads zero":           withParams("m=64,t=1,p=0"),
		"threads above 16":       withParams("m=1024,t=1,p=17"),
		"threads overflow uint8": withParams("m=4096,t=1,p=257"),
	}
	var calls atomic.Int32
	h.kdf = countingKDF(&calls)
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			before := calls.Load()
			ok, err := h.Verify(context.Background(), "pw", enc)
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformedHash", enc, ok, err)
			}
			if calls.Load() != before {
				t.Error("malformed hash reached the KDF")
			}
			if !h.NeedsRehash(enc) {
				t.Error("NeedsRehash = false for a malformed hash")
			}
		})
	}

	// Guard against the cases above passing only because the pieces they are
	// built from are broken.
	t.Run("control: rebuilt from the same pieces", func(t *testing.T) {
		before := calls.Load()
		if ok, err := h.Verify(context.Background(), "pw", withParams("m=64,t=1,p=1")); err != nil || !ok {
			t.Errorf("Verify = %v, %v; want true, nil", ok, err)
		}
		if calls.Load() != before+1 {
			t.Error("KDF did not run")
		}
	})
}

// countingKDF wraps the real argon2id, counting calls, so tests can tell that
// the work was done without timing it.
func countingKDF(n *atomic.Int32) kdfFunc {
	return func(pw, salt []byte, t, m uint32, p uint8, k uint32) []byte {
		n.Add(1)
		return argon2.IDKey(pw, salt, t, m, p, k)
	}
}

func TestNewHasherRefusesAbsurdParams(t *testing.T) {
	cases := map[string]HashParams{
		"zero":           {},
		"memory > 1 GiB": {Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		"memory < 8 KiB": {Memory: 7, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		"time 0":         {Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		"time 33":        {Memory: 64, Time: 33, Threads: 1, SaltLen: 16, KeyLen: 32},
		"threads 0":      {Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		"threads 17":     {Memory: 1024, Time: 1, Threads: 17, SaltLen: 16, KeyLen: 32},
		"salt 4":         {Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		"key 8":          {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
		"key 1024":       {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 1024},
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", p)
				}
			}()
			NewHasher(p, 1, 1)
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(HashParams{Memory: 256, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, 0, 0)
	hashWith := func(p HashParams) string {
		t.Helper()
		enc, err := NewHasher(p, 0, 0).Hash(ctx, "pw")
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	cases := []struct {
		name string
		p    HashParams
		want bool
	}{
		{"same", HashParams{Memory: 256, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, false},
		{"stronger", HashParams{Memory: 512, Time: 3, Threads: 2, SaltLen: 32, KeyLen: 64}, false},
		{"fewer threads", HashParams{Memory: 256, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"less memory", HashParams{Memory: 128, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"fewer passes", HashParams{Memory: 256, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"shorter salt", HashParams{Memory: 256, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 32}, true},
		{"shorter key", HashParams{Memory: 256, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 16}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := h.NeedsRehash(hashWith(c.p)); got != c.want {
				t.Errorf("NeedsRehash = %v, want %v", got, c.want)
			}
		})
	}
	t.Run("garbage", func(t *testing.T) {
		if !h.NeedsRehash("not a hash") {
			t.Error("NeedsRehash = false")
		}
	})
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(cheapParams, 0, 0)
	var calls atomic.Int32
	var got HashParams
	real := h.kdf
	h.kdf = func(pw, salt []byte, tm, m uint32, p uint8, k uint32) []byte {
		calls.Add(1)
		got = HashParams{Memory: m, Time: tm, Threads: p, SaltLen: uint32(len(salt)), KeyLen: k}
		return real(pw, salt, tm, m, p, k)
	}

	t.Run("runs the KDF with the hasher's params", func(t *testing.T) {
		for i := range 3 {
			if err := h.VerifyDummy(context.Background(), fmt.Sprint("guess", i)); err != nil {
				t.Fatal(err)
			}
		}
		if n := calls.Load(); n != 3 {
			t.Errorf("KDF ran %d times, want 3", n)
		}
		if got != cheapParams {
			t.Errorf("KDF params = %+v, want %+v", got, cheapParams)
		}
	})
	t.Run("never matches", func(t *testing.T) {
		// Whatever the password, the dummy key is random, so it can't
		// match; in particular the empty password doesn't.
		ok, err := h.Verify(context.Background(), "", h.dummy)
		if ok || err != nil {
			t.Errorf("Verify(dummy) = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("busy", func(t *testing.T) {
		tiny := NewHasher(cheapParams, 1, -1)
		tiny.slots <- struct{}{}
		tiny.admit <- struct{}{}
		defer tiny.release()
		if err := tiny.VerifyDummy(context.Background(), "x"); !errors.Is(err, ErrBusy) {
			t.Errorf("VerifyDummy = %v, want ErrBusy", err)
		}
	})
}

// hold occupies one of h's running slots as a running hash would.
func hold(h *Hasher) (release func()) {
	h.admit <- struct{}{}
	h.slots <- struct{}{}
	return h.release
}

// queued makes h report when callers start waiting for a slot.
func queued(h *Hasher) <-chan struct{} {
	ch := make(chan struct{}, 16)
	h.onQueue = func() { ch <- struct{}{} }
	return ch
}

func TestBusy(t *testing.T) {
	t.Run("ErrBusy when slot and queue are full", func(t *testing.T) {
		h := NewHasher(cheapParams, 1, 1)
		waiting := queued(h)
		release := hold(h)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := h.Hash(ctx, "waiter")
			done <- err
		}()
		<-waiting // the goroutine now fills the one-place queue

		if _, err := h.Hash(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
			t.Errorf("Hash = %v, want ErrBusy", err)
		}
		if _, err := h.Verify(context.Background(), "pw", h.dummy); !errors.Is(err, ErrBusy) {
			t.Errorf("Verify = %v, want ErrBusy", err)
		}

		release()
		if err := <-done; err != nil {
			t.Errorf("waiter: %v", err)
		}
		// Everything was given back: a fresh call goes straight through.
		if _, err := h.Hash(context.Background(), "pw"); err != nil {
			t.Errorf("Hash after drain = %v", err)
		}
	})

	t.Run("no queue", func(t *testing.T) {
		h := NewHasher(cheapParams, 1, -1)
		release := hold(h)
		if _, err := h.Hash(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
			t.Errorf("Hash = %v, want ErrBusy", err)
		}
		release()
		if _, err := h.Hash(context.Background(), "pw"); err != nil {
			t.Errorf("Hash after release = %v", err)
		}
	})

	t.Run("cancelled while waiting", func(t *testing.T) {
		h := NewHasher(cheapParams, 1, 1)
		waiting := queued(h)
		release := hold(h)
		defer release()

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := h.Verify(ctx, "pw", h.dummy)
			done <- err
		}()
		<-waiting
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Verify = %v, want context.Canceled", err)
		}
		// The cancelled waiter gave its queue place back.
		if len(h.admit) != 1 {
			t.Errorf("admitted = %d, want 1 (the held slot)", len(h.admit))
		}
	})

	t.Run("deadline while waiting", func(t *testing.T) {
		h := NewHasher(cheapParams, 1, 1)
		release := hold(h)
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Hash = %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("already cancelled does no work", func(t *testing.T) {
		h := NewHasher(cheapParams, 1, 1)
		var calls atomic.Int32
		h.kdf = countingKDF(&calls)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
			t.Errorf("Hash = %v, want context.Canceled", err)
		}
		if calls.Load() != 0 {
			t.Error("KDF ran for a cancelled caller")
		}
	})

	t.Run("concurrency never exceeds the limit", func(t *testing.T) {
		const limit = 2
		h := NewHasher(cheapParams, limit, 0)
		var running, peak atomic.Int32
		real := h.kdf
		h.kdf = func(pw, salt []byte, tm, m uint32, p uint8, k uint32) []byte {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			defer running.Add(-1)
			return real(pw, salt, tm, m, p, k)
		}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := h.Hash(context.Background(), "pw"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if p := peak.Load(); p > limit {
			t.Errorf("peak concurrency %d > %d", p, limit)
		}
	})
}

func TestNewHasherDefaults(t *testing.T) {
	t.Run("zero limits", func(t *testing.T) {
		h := NewHasher(cheapParams, 0, 0)
		if cap(h.slots) < 1 || cap(h.admit) != 65*cap(h.slots) {
			t.Errorf("slots %d, admit %d", cap(h.slots), cap(h.admit))
		}
	})
	t.Run("explicit limits", func(t *testing.T) {
		h := NewHasher(cheapParams, 3, 5)
		if cap(h.slots) != 3 || cap(h.admit) != 8 {
			t.Errorf("slots %d, admit %d", cap(h.slots), cap(h.admit))
		}
	})
}

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 1, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
