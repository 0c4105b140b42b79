-- Look-alike usernames: the confusable skeleton of each name (see
-- blog.UsernameSkeleton), unique so that two look-alikes can't both be
-- registered, even at once. It is computed in Go, so rows from before this
-- migration are filled in at start-up; NULLs are distinct to a UNIQUE
-- index, so until then (and for the younger of an old look-alike pair,
-- which keeps working) a row without one blocks nothing.
ALTER TABLE users ADD COLUMN username_skeleton text;

CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton);
