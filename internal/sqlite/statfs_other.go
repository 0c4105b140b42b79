//go:build !(linux || darwin || freebsd)

package sqlite

// freeBytes cannot tell the free space here; the page-limit check and the
// next successful write still clear a full store.
func freeBytes(string) (uint64, bool) { return 0, false }
