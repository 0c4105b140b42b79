package app_test

import (
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/palisade-blog/palisade/internal/app"
	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestStartupSaysWhatItWaitsFor points the store at a PostgreSQL address
// that accepts connections and never answers: before start-up gives up, the
// log has said which server it is waiting for and for how long, so an
// operator watching a silent start knows where it is stuck; the URL's
// password is not in it.
func TestStartupSaysWhatItWaitsFor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never read, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	}()

	cfg := load(t, map[string]string{
		"PALISADE_DATABASE_URL": "postgres://palisade:hunter2-secret@" + ln.Addr().String() + "/blog?sslmode=disable&connect_timeout=1",
	})
	var logs apptest.LogBuffer
	if store, err := app.OpenStore(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, nil))); err == nil {
		_ = store.Close()
		t.Fatal("a server that never answers was opened")
	}
	line := logs.String()
	for _, want := range []string{"connecting to PostgreSQL", ln.Addr().String(), "wait=", "1s per attempt"} {
		if !strings.Contains(line, want) {
			t.Errorf("start-up log lacks %q:\n%s", want, line)
		}
	}
	if strings.Contains(line, "hunter2") {
		t.Errorf("the log shows the database password:\n%s", line)
	}
}
