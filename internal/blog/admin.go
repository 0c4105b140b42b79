package blog

// MaxListUsers caps UserStore.ListUsers. A blog has a handful of
// accounts; the cap keeps one listing bounded if something (a script
// gone wrong) made many.
const MaxListUsers = 10_000

// ErrLastAdmin is a store's answer when a change would leave the
// instance with no enabled admin: nobody could then manage accounts,
// invites or settings except on the command line.
var ErrLastAdmin = Errorf(ECONFLICT, "An instance needs at least one admin: make another admin first")

// ErrAdminExists is CreateFirstAdmin's answer once the instance has an
// admin: the first-admin claim is for a fresh instance only.
var ErrAdminExists = Errorf(ECONFLICT, "This instance already has an admin")
