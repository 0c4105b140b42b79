package mongo

import (
	"errors"
	"fmt"
	"io"
	"net"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Server error codes the store looks at.
const (
	codeNamespaceExists    = 48
	codeCommandNotFound    = 59
	codeNotImplemented     = 238
	codeUnauthorized       = 13
	codeCommandUnsupported = 115
)

// Codes that say the server, not the operation, is in trouble: it is
// shutting down, stepping down or cannot reach its peers. A retry later
// may succeed.
var unavailableCodes = map[int32]bool{
	6:     true, // HostUnreachable
	7:     true, // HostNotFound
	89:    true, // NetworkTimeout
	91:    true, // ShutdownInProgress
	189:   true, // PrimarySteppedDown
	262:   true, // ExceededTimeLimit
	9001:  true, // SocketException
	10107: true, // NotWritablePrimary
	11600: true, // InterruptedAtShutdown
	11602: true, // InterruptedDueToReplStateChange
	13435: true, // NotPrimaryNoSecondaryOk
	13436: true, // NotPrimaryOrSecondary
}

// unavailable marks err as EUNAVAILABLE (blog.ErrStoreUnavailable: a 503
// that clients may retry, instead of a 500; the driver reconnects by
// itself when the server is back) when it says the connection, not
// the operation, failed: no server could be selected in time, the network
// broke mid-operation, or the server is shutting down. Other errors are
// returned as they are.
func unavailable(err error) error {
	if err == nil || blog.ErrorCode(err) != blog.EINTERNAL {
		return err
	}
	var (
		selErr  topology.ServerSelectionError
		connErr topology.ConnectionError
		netErr  net.Error
		cmdErr  mongo.CommandError
	)
	switch {
	case mongo.IsNetworkError(err), mongo.IsTimeout(err),
		errors.As(err, &selErr), errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return fmt.Errorf("%w: %w", blog.ErrStoreUnavailable, err)
	case errors.As(err, &cmdErr) && unavailableCodes[cmdErr.Code]:
		return fmt.Errorf("%w: %w", blog.ErrStoreUnavailable, err)
	}
	return err
}

// hasCode reports whether err is a server error with one of the codes.
func hasCode(err error, codes ...int) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.HasErrorCode(c) {
			return true
		}
	}
	return false
}

// notSupported reports whether the server refused a command or option
// because it does not implement it (FerretDB answers NotImplemented).
func notSupported(err error) bool {
	return hasCode(err, codeNotImplemented, codeCommandNotFound, codeCommandUnsupported)
}
