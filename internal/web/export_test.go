package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/palisade-blog/palisade/internal/blog"
)

// AgeSignIn makes the session whose cookie holds token look as if its
// visitor last proved who they are age earlier than they did, by
// rewriting the session where the application keeps it (store: the
// database's session store, or Redis's). It is how the tests reach a
// sign-in older than account.ReauthWindow without waiting for one.
func AgeSignIn(ctx context.Context, store blog.SessionStore, token string, age time.Duration) error {
	h := hashedStore{store}
	b, found, err := h.FindCtx(ctx, token)
	if err != nil {
		return fmt.Errorf("find session: %w", err)
	}
	if !found {
		return errors.New("no such session")
	}
	var codec scs.GobCodec
	deadline, values, err := codec.Decode(b)
	if err != nil {
		return fmt.Errorf("decode session: %w", err)
	}
	at, ok := values[keyAuthAt].(int64)
	if !ok {
		return fmt.Errorf("session has no %s", keyAuthAt)
	}
	values[keyAuthAt] = at - int64(age/time.Second)
	if b, err = codec.Encode(deadline, values); err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	return h.CommitCtx(ctx, token, b, deadline)
}
