// Command palisade is a secure, self-hostable blog server. main only wires
// the process to run, which tests call directly.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go stopOnSignals(sigs, cancel, os.Exit, os.Stderr)
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "palisade:", err)
		os.Exit(exitCode(err))
	}
}

// stopOnSignals turns the first SIGINT or SIGTERM into a graceful stop
// (cancel: serve drains its requests and says so) and a second one into an
// immediate exit, for an operator who will not wait. The status is 128 +
// the signal's number, as a shell reports a process the signal killed.
func stopOnSignals(sigs <-chan os.Signal, cancel context.CancelFunc, exit func(int), stderr io.Writer) {
	<-sigs
	cancel()
	sig := <-sigs
	fmt.Fprintf(stderr, "palisade: %v again: stopping now, without waiting for requests in flight\n", sig)
	code := 1
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	exit(code)
}
