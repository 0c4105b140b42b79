package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// ErrCurrentPasswordWrong answers a password change whose current
// password is wrong. A field to correct (400), not ErrBadCredentials'
// 401: the caller is signed in, and a client would take a 401 to mean
// its token is bad.
var ErrCurrentPasswordWrong = passwordField("currentPassword", "Current password is wrong")

// ChangePassword replaces the signed-in u's password with next, once
// current proves u is at the keyboard. The current password is checked as
// at sign-in, throttled per client and per account, and a wrong one counts
// against both. The new one is held to the registration rules. The change
// moves the account's token version on, so every session and token issued
// before it stops working; the caller keeps going by taking a new one.
// Returns a *blog.ValidationError (fields currentPassword and
// newPassword; ErrCurrentPasswordWrong for a wrong current password), a
// *ThrottledError, EUNAVAILABLE when the limiter is down, or auth.ErrBusy.
func (s *Service) ChangePassword(ctx context.Context, client string, u blog.User, current, next string) error {
	// Everything that needs no hash is checked before an attempt is
	// counted: a weak new password is a typing matter, not a guess.
	if err := checkNewPassword(u.Username, current, next); err != nil {
		return err
	}
	clientKey, accountKey := signInKeys(client, u.Username)
	if err := s.takeAttempt(ctx, clientKey, accountKey); err != nil {
		return err
	}
	who, err := s.checkPassword(ctx, blog.Credentials{Username: u.Username, Password: current})
	if err == nil && who.ID != u.ID {
		// Renamed, and the name taken since the session began: not this
		// account's password.
		err = ErrBadCredentials
	}
	switch {
	case errors.Is(err, ErrBadCredentials):
		logging.Security(ctx, s.Log, "password.change.failure")
		return ErrCurrentPasswordWrong
	case err != nil:
		// Our failure, not a guess: it does not count.
		s.giveBack(ctx, clientKey)
		s.giveBack(ctx, accountKey)
		return err
	}
	if u.HasSecondFactor() {
		// As at sign-in, the password alone does not forget the account's
		// wrong codes: else it could wipe them between guesses.
		s.giveBack(ctx, clientKey)
		s.giveBack(ctx, accountKey)
	} else {
		s.signedIn(ctx, clientKey, accountKey)
	}
	hash, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	if err := s.Store.SetPasswordHash(ctx, u.ID, hash, blog.PasswordChanged); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	logging.Audit(ctx, s.Log, "password.changed")
	return nil
}

// checkNewPassword refuses a missing current password, and a new one that
// registration would refuse or that is the current one again. Messages
// are registration's, under the field newPassword.
func checkNewPassword(username, current, next string) error {
	if current == "" {
		return passwordField("currentPassword", "Required")
	}
	if next == "" {
		return passwordField("newPassword", "Required")
	}
	reg := blog.Registration{Username: username, Password: next}
	err := reg.Clean(auth.IsCommonPassword)
	var verr *blog.ValidationError
	if errors.As(err, &verr) {
		for _, f := range verr.Fields {
			// The username is the account's own and was valid when
			// stored; only the password's verdicts apply.
			if f.Path == "password" {
				return passwordField("newPassword", f.Msg)
			}
		}
	} else if err != nil {
		return err
	}
	if next == current {
		return passwordField("newPassword", "New password must differ from the current one")
	}
	return nil
}

// passwordField is a one-field validation error in a password change's
// body.
func passwordField(path, msg string) *blog.ValidationError {
	return &blog.ValidationError{Fields: []blog.FieldError{{Type: "field", Path: path, Location: "body", Msg: msg}}}
}
