package main

import "syscall"

// childAttr makes the kernel stop a child if this program dies without
// cleaning up (kill -9), so no server is left holding a port.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
