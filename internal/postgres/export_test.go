package postgres

import "time"

// SetConnectTimeout shortens the default connect time-out for a test.
func SetConnectTimeout(d time.Duration) (restore func()) {
	old := connectTimeout
	connectTimeout = d
	return func() { connectTimeout = old }
}
