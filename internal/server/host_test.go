package server_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/app"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/server"
)

func get(t *testing.T, addr, path, host string) (*http.Response, string) {
	t.Helper()
	resp, body := server.RawRequest(t, addr, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
	return resp, string(body)
}

func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Content-Security-Policy") == "" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("security headers missing: %v", h)
	}
}

// TestHostCheck: a DNS-rebinding page makes the victim's browser send its
// own name as Host to an instance it can reach; that gets a 421 with the
// security headers and nothing else, while the real name is served, and
// health checks work for a load balancer probing by address.
func TestHostCheck(t *testing.T) {
	prod := apptest.Start(t, map[string]string{
		"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example",
		"PALISADE_SESSION_SECRET": apptest.NewSecret(),
	})
	dev := apptest.Start(t, nil)
	prodAddr, devAddr := prod.Listener.Addr().String(), dev.Listener.Addr().String()
	_, devPort, _ := net.SplitHostPort(devAddr)
	tests := []struct {
		name, addr, path, host string
		want                   int
	}{
		{"production base host", prodAddr, "/posts", "blog.example", 200},
		{"production base host with default port", prodAddr, "/posts", "blog.example:443", 200},
		{"production rebinding host", prodAddr, "/posts", "attacker.example", 421},
		{"production rebinding host, sign-in", prodAddr, "/auth/login", "attacker.example", 421},
		{"production other port", prodAddr, "/posts", "blog.example:8443", 421},
		{"production localhost", prodAddr, "/posts", "localhost", 421},
		{"production healthz by address", prodAddr, "/healthz", "10.0.0.5:3000", 200},
		{"production readyz by address", prodAddr, "/readyz", "10.0.0.5", 200},
		{"development 127.0.0.1", devAddr, "/posts", devAddr, 200},
		{"development localhost", devAddr, "/posts", "localhost:" + devPort, 200},
		{"development ::1", devAddr, "/posts", "[::1]:" + devPort, 200},
		{"development name under .localhost", devAddr, "/posts", "blog.localhost:" + devPort, 200},
		{"development rebinding host", devAddr, "/posts", "attacker.example:" + devPort, 421},
		{"development private address", devAddr, "/posts", "192.168.1.20:" + devPort, 421},
		{"development healthz on any host", devAddr, "/healthz", "attacker.example", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, tt.addr, tt.path, tt.host)
			if resp.StatusCode != tt.want {
				t.Fatalf("GET %s, Host %s: %d, want %d: %s", tt.path, tt.host, resp.StatusCode, tt.want, body)
			}
			checkSecurityHeaders(t, resp.Header)
			if tt.want == http.StatusMisdirectedRequest && (len(body) > 200 || strings.Contains(body, "<")) {
				t.Fatalf("421 body %q, want a short plain message", body)
			}
		})
	}
}

// TestOptionsAsterisk: "OPTIONS *" gets the security headers like every
// other response. net/http answers it itself, bypassing the handler,
// unless the server is told not to.
func TestOptionsAsterisk(t *testing.T) {
	ts := apptest.Start(t, nil)
	h, err := app.Wire(ts.Config, ts.Store, nil, app.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, server.New(h, slog.New(slog.DiscardHandler)), ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	addr := ln.Addr().String()
	t.Run("OurHost", func(t *testing.T) {
		resp, body := server.RawRequest(t, addr, "OPTIONS * HTTP/1.1\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Fatalf("OPTIONS *: %d %q, want 200 and no body", resp.StatusCode, body)
		}
		checkSecurityHeaders(t, resp.Header)
	})
	t.Run("OtherHost", func(t *testing.T) {
		resp, _ := server.RawRequest(t, addr, "OPTIONS * HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Fatalf("OPTIONS * for another host: %d, want 421", resp.StatusCode)
		}
		checkSecurityHeaders(t, resp.Header)
	})
}
