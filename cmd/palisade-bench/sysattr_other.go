//go:build !linux

package main

import "syscall"

// childAttr has nothing to add off Linux (where this tool cannot measure
// anyway: it reads /proc).
func childAttr() *syscall.SysProcAttr { return nil }
