package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own messages (failed dials, pool trouble) to
// log as warnings, instead of to standard error in another format. It is
// process-wide, as go-redis's logger is, so the serve command calls it once.
func SetLogger(log *slog.Logger) {
	goredis.SetLogger(slogAdapter{log})
}

type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Printf(ctx context.Context, format string, v ...any) {
	a.log.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
