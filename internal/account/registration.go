package account

import (
	"context"
	"log/slog"
	"time"

	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// Policy says who may create an account through the API and the website
// (PALISADE_REGISTRATION). The command line may always.
type Policy string

// Registration policies.
const (
	// PolicyInvite lets in only the holder of an unused invite link made
	// by an admin; the account gets the invite's role.
	PolicyInvite Policy = "invite"
	// PolicyOpen lets anyone register as an author (the tutorial's
	// behaviour). An invite, if one is sent, is still redeemed.
	PolicyOpen Policy = "open"
	// PolicyClosed lets nobody in: accounts are made on the command line.
	PolicyClosed Policy = "closed"
)

// Refusals of a registration the policy does not allow. Like every
// refused invite (blog.ErrInviteInvalid), they are 403s and store nothing.
var (
	ErrRegistrationClosed = blog.Errorf(blog.EFORBIDDEN, "Registration is closed: the blog's owner creates accounts")
	ErrInviteRequired     = blog.Errorf(blog.EFORBIDDEN, "Registration is by invitation only: ask the blog's owner for an invite link")
)

// policy is s.Registration, the safest policy when it was left unset.
func (s *Service) policy() Policy {
	switch s.Registration {
	case PolicyOpen, PolicyClosed:
		return s.Registration
	}
	return PolicyInvite
}

// RegistrationPolicy is the policy Register applies, so that a front
// door can say so before anyone fills in a form.
func (s *Service) RegistrationPolicy() Policy { return s.policy() }

// CheckRegistration says whether a registration carrying invite (empty
// for none) may be attempted under the policy: nil, ErrRegistrationClosed,
// ErrInviteRequired, or blog.ErrInviteInvalid for a token of the wrong
// shape. It does not look the invite up: Register does.
func (s *Service) CheckRegistration(invite string) error {
	switch {
	case s.policy() == PolicyClosed:
		return ErrRegistrationClosed
	case invite != "" && !blog.ValidInviteToken(invite):
		return blog.ErrInviteInvalid
	case invite == "" && s.policy() == PolicyInvite:
		return ErrInviteRequired
	}
	return nil
}

// Register creates the account reg asks for, if the policy allows it:
// with reg.Invite it redeems that invite (single use, the invite's role),
// otherwise, under PolicyOpen only, it makes an author. The policy, and
// then the invite, are checked first, so a refused registration costs no
// hash. Returns ErrRegistrationClosed, ErrInviteRequired or
// blog.ErrInviteInvalid (EFORBIDDEN), a *blog.ValidationError,
// ErrUsernameTaken (ECONFLICT; the invite then stays unused), or
// auth.ErrBusy.
func (s *Service) Register(ctx context.Context, reg blog.Registration) (blog.User, error) {
	if err := s.CheckRegistration(reg.Invite); err != nil {
		logging.Security(ctx, s.Log, "register.refused", slog.String("reason", blog.ErrorMessage(err)))
		return blog.User{}, err
	}
	if err := reg.Clean(auth.IsCommonPassword); err != nil {
		return blog.User{}, err
	}
	if reg.Invite != "" {
		// A read before the hash: otherwise anyone could make the server
		// spend an argon2id hash (tens of milliseconds and MiBs) per
		// made-up invite, and crowd out real sign-ins. Redeeming still
		// decides, since the invite may be used in between.
		err := s.Store.InviteUsable(ctx, blog.InviteTokenHash(reg.Invite), s.now())
		if blog.ErrorCode(err) == blog.EFORBIDDEN {
			logging.Security(ctx, s.Log, "register.refused", slog.String("reason", blog.ErrorMessage(err)))
		}
		if err != nil {
			return blog.User{}, err
		}
	}
	hash, err := s.Hasher.Hash(ctx, reg.Password)
	if err != nil {
		return blog.User{}, err
	}
	nu := blog.NewUser{Username: reg.Username, PasswordHash: hash, Role: blog.RoleAuthor}
	var u blog.User
	if reg.Invite != "" {
		u, err = s.Store.RedeemInvite(ctx, blog.InviteTokenHash(reg.Invite), nu, s.now())
		if blog.ErrorCode(err) == blog.EFORBIDDEN {
			logging.Security(ctx, s.Log, "register.refused", slog.String("reason", blog.ErrorMessage(err)))
		}
	} else {
		u, err = s.Store.CreateUser(ctx, nu)
	}
	if err != nil {
		return blog.User{}, err
	}
	logging.SetUser(ctx, u.ID)
	logging.Audit(ctx, s.Log, "user.registered", slog.String("role", string(u.Role)), slog.Bool("invited", reg.Invite != ""))
	return u, nil
}

// now is s.Now, or the clock when it is nil.
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
