package account

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// ReauthWindow is how long after a password or code check a sensitive
// action (setting up or turning off a second factor) is allowed without
// asking again: a session or token left open, or stolen, is not enough.
const ReauthWindow = 10 * time.Minute

// reauthSkew is how far in the future an authentication time may be: the
// clocks of two instances differ a little, no more.
const reauthSkew = 5 * time.Second

// Recent reports whether authAt (the last password or code check) is
// within ReauthWindow of now, and not in the future beyond clock skew.
func Recent(authAt, now time.Time) bool {
	if authAt.IsZero() || authAt.After(now.Add(reauthSkew)) {
		return false
	}
	return now.Sub(authAt) <= ReauthWindow
}

// Reauthenticate checks that the signed-in u is at the keyboard: with
// their password, or, when the account has TOTP, with a code (which is
// used up). It is throttled like sign-in. Returns ErrBadCredentials for a
// wrong password, ErrBadCode for a wrong code, a *ThrottledError, or
// EUNAVAILABLE when the limiter is down.
func (s *Service) Reauthenticate(ctx context.Context, client string, u blog.User, password, code string) error {
	clientKey, accountKey := signInKeys(client, u.Username)
	if err := s.takeAttempt(ctx, clientKey, accountKey); err != nil {
		return err
	}
	var (
		err    error
		method = "password"
	)
	switch {
	case code != "":
		method = "totp"
		if u.HasSecondFactor() {
			method, err = s.checkCode(ctx, u, code)
		} else {
			err = ErrBadCode
		}
	default:
		var who blog.User
		who, err = s.checkPassword(ctx, blog.Credentials{Username: u.Username, Password: password})
		if err == nil && who.ID != u.ID {
			// The account was renamed and its name taken since the
			// session began: not this user's password.
			err = ErrBadCredentials
		}
	}
	switch {
	case errors.Is(err, ErrBadCredentials), errors.Is(err, ErrBadCode):
		logging.Security(ctx, s.Log, "reauth.failure", slog.String("method", method))
		return err
	case err != nil:
		s.giveBack(ctx, clientKey)
		s.giveBack(ctx, accountKey)
		return err
	}
	if method == "password" && u.HasSecondFactor() {
		// As at sign-in, the password alone does not forget the account's
		// wrong codes: else it could wipe them between guesses.
		s.giveBack(ctx, clientKey)
		s.giveBack(ctx, accountKey)
	} else {
		s.signedIn(ctx, clientKey, accountKey)
	}
	logging.Audit(ctx, s.Log, "reauth.success", slog.String("method", method))
	return nil
}
