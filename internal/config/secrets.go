package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnsureDevSecrets fills in missing secrets in development: each is
// generated once, kept in the data directory with mode 0600 and read back
// on later starts, so a restart keeps users signed in. In production it
// does nothing: Load has already refused missing secrets there.
func (c *Config) EnsureDevSecrets() error {
	if c.Production() {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	var err error
	if len(c.JWTSecret) == 0 {
		if c.JWTSecret, err = devSecret(filepath.Join(c.DataDir, "jwt.secret")); err != nil {
			return err
		}
	}
	if len(c.SessionSecret) == 0 {
		if c.SessionSecret, err = devSecret(filepath.Join(c.DataDir, "session.secret")); err != nil {
			return err
		}
	}
	return nil
}

func devSecret(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		info, statErr := os.Stat(path)
		if statErr != nil {
			return nil, fmt.Errorf("stat %s: %w", path, statErr)
		}
		if info.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("%s: readable by other users (mode %v): chmod 600 it", path, info.Mode().Perm())
		}
		s := Secret(strings.TrimSpace(string(b)))
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("%s: too short, delete it to generate a new one", path)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 48)
	_, _ = rand.Read(raw)
	s := base64.RawURLEncoding.EncodeToString(raw)
	// O_EXCL: if another process wrote it first, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return devSecret(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return Secret(s), nil
}

// EnsureDataDir creates the data directory, readable by its owner only: it
// holds the database and, in development, the secrets.
func (c *Config) EnsureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("PALISADE_DATA_DIR: %w", err)
	}
	return nil
}
