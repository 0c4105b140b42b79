package blog

import (
	"context"
	"time"
)

// NewUser is what a store needs to create an account.
type NewUser struct {
	Username     string
	PasswordHash string
	Role         Role
}

// UserStore keeps accounts.
type UserStore interface {
	// CreateUser stores a new account. Returns ErrUsernameTaken (ECONFLICT)
	// if the username is taken case-insensitively or another account has
	// its UsernameSkeleton; the store enforces both with unique indexes, so
	// two look-alikes registered at once can't both succeed.
	CreateUser(ctx context.Context, u NewUser) (User, error)
	// UserByID returns the account. Returns ENOTFOUND if there is none.
	UserByID(ctx context.Context, id string) (User, error)
	// UserByUsername returns the account (case-insensitive). Returns
	// ENOTFOUND if there is none.
	UserByUsername(ctx context.Context, username string) (User, error)
	// Credentials returns the account and its password hash, for sign-in
	// only. Returns ENOTFOUND if there is none.
	Credentials(ctx context.Context, username string) (User, string, error)
	// SetPasswordHash replaces the hash. For PasswordChanged it also bumps
	// the token version in the same write, so every token and session
	// issued before the change stops working; for PasswordRehashed (the
	// same password hashed with stronger parameters) they stay valid.
	// Returns ENOTFOUND if there is no such user, and an internal error
	// for any other PasswordChange, changing nothing.
	SetPasswordHash(ctx context.Context, userID, hash string, change PasswordChange) error
	// SetRole changes a user's role. Returns ENOTFOUND or EINVALID, and
	// ErrLastAdmin (ECONFLICT) if it would demote the only enabled admin:
	// the check and the change are one atomic step, so two admins demoting
	// each other at once can't both succeed.
	SetRole(ctx context.Context, userID string, role Role) error
	// DisableUser marks the account disabled and bumps its token version, so
	// every token and session it holds stops working. Returns ENOTFOUND, or
	// ErrLastAdmin (ECONFLICT) if the user is the only enabled admin,
	// checked atomically with the change as in SetRole. Disabling a
	// disabled account changes nothing but its token version.
	DisableUser(ctx context.Context, userID string) error
	// EnableUser lets a disabled account sign in again (its old tokens and
	// sessions stay revoked). Returns ENOTFOUND. Enabling an enabled
	// account is not an error.
	EnableUser(ctx context.Context, userID string) error
	// ListUsers returns every account, ordered by username
	// (case-insensitively), at most MaxListUsers of them: an instance
	// has few accounts, and the cap bounds what one call can cost.
	ListUsers(ctx context.Context) ([]User, error)
	// HasAdmin reports whether an enabled admin exists. While none does,
	// the instance can be claimed with CreateFirstAdmin.
	HasAdmin(ctx context.Context) (bool, error)
	// CreateFirstAdmin creates u as an admin (u.Role is ignored) only if
	// no enabled admin exists, checking and creating in one atomic step:
	// of two concurrent calls exactly one succeeds. Returns ErrAdminExists
	// (ECONFLICT) if an admin exists, and ErrUsernameTaken as CreateUser.
	CreateFirstAdmin(ctx context.Context, u NewUser) (User, error)
}

// PostStore keeps posts. Update and delete take the acting user and check
// authorship inside the same transaction, so no caller can forget to.
type PostStore interface {
	// CreatePost stores a post by p.AuthorID. Returns ENOTFOUND if the author
	// does not exist.
	CreatePost(ctx context.Context, p NewPost) (Post, error)
	// PostByID returns a post with its author. Returns ENOTFOUND.
	PostByID(ctx context.Context, id string) (Post, error)
	// ListPosts returns up to page.Limit posts, newest first, strictly after
	// page.After, and the cursor of the next page (nil on the last page).
	ListPosts(ctx context.Context, page Page) ([]Post, *Cursor, error)
	// UpdatePost changes a post. Returns ENOTFOUND if it does not exist and
	// EFORBIDDEN if actor is neither its author nor an admin.
	UpdatePost(ctx context.Context, actor User, id string, u PostUpdate) (Post, error)
	// DeletePost removes a post. Returns ENOTFOUND or EFORBIDDEN as
	// UpdatePost.
	DeletePost(ctx context.Context, actor User, id string) error
}

// RevocationStore remembers revoked token IDs until the tokens expire.
type RevocationStore interface {
	// RevokeToken records that the token with this ID is no longer valid.
	// Revoking twice is not an error.
	RevokeToken(ctx context.Context, tokenID string, expiresAt time.Time) error
	// TokenRevoked reports whether the token ID was revoked.
	TokenRevoked(ctx context.Context, tokenID string) (bool, error)
	// ClaimToken revokes the token ID, as RevokeToken, only if it was not
	// revoked already, and reports whether this call did it. It is one
	// atomic step, also between instances sharing the store: of any
	// number of concurrent claims of one ID exactly one gets true. That
	// is what makes a single-use token single-use; TokenRevoked then
	// RevokeToken would let two requests both see it unused.
	ClaimToken(ctx context.Context, tokenID string, expiresAt time.Time) (claimed bool, err error)
	// PruneRevocations forgets revocations of tokens that expired before now.
	PruneRevocations(ctx context.Context, now time.Time) error
}

// SessionStore keeps website sessions as opaque data under a key. The
// caller derives the key from the session token (a hash), so the store
// never holds a value that works as a cookie.
type SessionStore interface {
	// FindSession returns the data of the session if it exists and has not
	// expired; found is false otherwise.
	FindSession(ctx context.Context, key string) (data []byte, found bool, err error)
	// TakeSession returns the data of the session, as FindSession, and
	// deletes it in the same atomic step: of concurrent takes of one key
	// at most one finds it. For things that must be used once (a passkey
	// ceremony), where FindSession then DeleteSession would let two
	// requests both read it.
	TakeSession(ctx context.Context, key string) (data []byte, found bool, err error)
	// SaveSession stores data under key until expiry, replacing any.
	SaveSession(ctx context.Context, key string, data []byte, expiry time.Time) error
	// DeleteSession removes the session; deleting a missing one is not an
	// error.
	DeleteSession(ctx context.Context, key string) error
	// PruneSessions removes sessions that expired before now.
	PruneSessions(ctx context.Context, now time.Time) error
}

// Store is everything Palisade keeps in its database.
type Store interface {
	UserStore
	PostStore
	RevocationStore
	SessionStore
	InviteStore
	SettingsStore
	TwoFactorStore
	PasskeyStore
	BackupStore
	LeaseStore
	// Ping checks that the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
