//go:build linux || darwin || freebsd

package sqlite

import "syscall"

// freeBytes is the space an unprivileged process may still use on the
// file system holding dir; ok is false if it cannot be told.
func freeBytes(dir string) (avail uint64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
