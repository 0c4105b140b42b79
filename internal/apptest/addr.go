package apptest

import (
	"net"
	"testing"
)

// FreeAddr returns a loopback address whose port was free a moment ago,
// for a server the test starts itself (the real binary, or run with
// --addr). Another process may take the port in between; on a test
// machine that is rare enough to accept.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }() // only its port was wanted
	return ln.Addr().String()
}
