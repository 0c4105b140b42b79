package server

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/logging"
)

func TestServerTimeouts(t *testing.T) {
	srv := New(http.NotFoundHandler(), logging.Discard())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("a time-out or limit is unset: %+v", srv)
	}
}

// TestSlowlorisDropped: a client that dribbles its headers is cut off once
// ReadHeaderTimeout passes, so it can't hold a connection open forever.
// The time-out is shortened here; the production value is checked above.
func TestSlowlorisDropped(t *testing.T) {
	srv := New(http.NotFoundHandler(), logging.Discard())
	srv.ReadHeaderTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }() // returns ErrServerClosed when the test closes it
	defer func() { _ = srv.Close() }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := fmt.Fprint(conn, "X-Slow: 1\r\n"); err != nil {
			break
		}
		if _, err := bufio.NewReader(conn).ReadByte(); err != nil || time.Since(start) > 4*time.Second {
			break
		}
	}
	if time.Since(start) > 4*time.Second {
		t.Fatal("slow client kept its connection")
	}
}
