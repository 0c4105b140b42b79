package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// owner runs one command on the SQLite database in dir and returns its
// standard output.
func owner(t *testing.T, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append(args, "--data-dir", dir), envOf(nil), strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

func TestUserAdminCommands(t *testing.T) {
	dir := t.TempDir()
	mustRun := func(want string, args ...string) string {
		t.Helper()
		out, err := owner(t, dir, apptest.Password+"\n", args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("%v: %q, %v; want %q", args, out, err, want)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		out, err := owner(t, dir, "", args...)
		if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), want) || out != "" {
			t.Fatalf("%v: %q, %v; want exit 1 saying %q", args, out, err, want)
		}
	}
	mustRun("created admin root_admin", "user", "create", "root_admin", "--admin")
	mustRun("created author bob", "user", "create", "bob")

	refused("at least one admin", "user", "demote", "root_admin")
	refused("at least one admin", "user", "disable", "ROOT_ADMIN")
	mustRun("promoted bob", "user", "promote", "bob")
	mustRun("demoted root_admin", "user", "demote", "root_admin")
	refused("at least one admin", "user", "disable", "bob")
	mustRun("disabled root_admin", "user", "disable", "root_admin")
	refused("User not found", "user", "enable", "nobody")

	list := mustRun("USERNAME", "user", "list")
	rows := regexp.MustCompile(`(?m)^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`).FindAllStringSubmatch(list, -1)
	if len(rows) != 2 || rows[0][1:5][0] != "bob" || strings.Join(rows[0][1:5], " ") != "bob admin no no" ||
		strings.Join(rows[1][1:5], " ") != "root_admin author yes no" {
		t.Fatalf("user list:\n%s", list)
	}
	mustRun("enabled root_admin", "user", "enable", "root_admin")
	if list := mustRun("USERNAME", "user", "list"); !regexp.MustCompile(`(?m)^root_admin\s+author\s+no\s`).MatchString(list) {
		t.Fatalf("user list after enable:\n%s", list)
	}
}

func TestInviteCommands(t *testing.T) {
	dir := t.TempDir()
	link, err := owner(t, dir, "", "invite", "create", "--role", "admin", "--expires", "2d")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || u.Scheme+"://"+u.Host+u.Path != "http://127.0.0.1:3000/register" || !blog.ValidInviteToken(u.Query().Get("invite")) {
		t.Fatalf("invite link %q (%v)", link, err)
	}
	list, err := owner(t, dir, "", "invite", "list")
	row := regexp.MustCompile(`(?m)^([a-z2-7]{26})\s+admin\s+pending\s+.*\scommand line\s+-$`).FindStringSubmatch(list)
	if err != nil || row == nil {
		t.Fatalf("invite list (%v):\n%s", err, list)
	}

	// The link's token is the one whose hash the store keeps.
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.RedeemInvite(context.Background(), blog.InviteTokenHash(u.Query().Get("invite")),
		blog.NewUser{Username: "invited", PasswordHash: "h"}, blog.Now())
	if closeErr := s.Close(); err != nil || closeErr != nil || got.Role != blog.RoleAdmin {
		t.Fatalf("redeem the printed link: %+v, %v, %v", got, err, closeErr)
	}
	if list, err := owner(t, dir, "", "invite", "list"); err != nil || !regexp.MustCompile(`\sused\s.*\sinvited\n`).MatchString(list) {
		t.Fatalf("invite list after use (%v):\n%s", err, list)
	}

	if _, err := owner(t, dir, "", "invite", "create"); err != nil {
		t.Fatal(err)
	}
	list, _ = owner(t, dir, "", "invite", "list")
	id := regexp.MustCompile(`(?m)^([a-z2-7]{26})\s+author\s+pending`).FindStringSubmatch(list)
	if id == nil {
		t.Fatalf("default invite not listed as a pending author invite:\n%s", list)
	}
	if out, err := owner(t, dir, "", "invite", "revoke", id[1]); err != nil || !strings.Contains(out, "revoked invite "+id[1]) {
		t.Fatalf("revoke: %q, %v", out, err)
	}
	if list, _ := owner(t, dir, "", "invite", "list"); !regexp.MustCompile(id[1] + `\s+author\s+revoked`).MatchString(list) {
		t.Fatalf("invite list after revoke:\n%s", list)
	}
	if _, err := owner(t, dir, "", "invite", "revoke", blog.NewID()); exitCode(err) != 1 || !strings.Contains(err.Error(), "Invite not found") {
		t.Fatalf("revoke an unknown invite: %v", err)
	}
}

func TestSiteCommands(t *testing.T) {
	dir := t.TempDir()
	show := func() string {
		t.Helper()
		out, err := owner(t, dir, "", "site", "show")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := show(); got != "title: Palisade\ndescription: \n" {
		t.Fatalf("settings of a new site: %q", got)
	}
	if out, err := owner(t, dir, "", "site", "set", "title", "  Notes from the hill "); err != nil || out != "site title set\n" {
		t.Fatalf("set title: %q, %v", out, err)
	}
	if _, err := owner(t, dir, "", "site", "set", "description", "-- a dash first is a value, not a flag"); err != nil {
		t.Fatal(err)
	}
	if got := show(); got != "title: Notes from the hill\ndescription: -- a dash first is a value, not a flag\n" {
		t.Fatalf("settings: %q", got)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 101)} {
		if _, err := owner(t, dir, "", "site", "set", "title", bad); exitCode(err) != 1 || !strings.Contains(err.Error(), "Title") {
			t.Fatalf("title %q: %v, want exit 1", bad, err)
		}
	}
	if got := show(); !strings.HasPrefix(got, "title: Notes from the hill\n") {
		t.Fatalf("a refused title changed the settings: %q", got)
	}
}

// TestOwnerCommandUsage: mistakes exit 2 with the usage once on standard
// error; help goes to standard output.
func TestOwnerCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"invite"}, {"invite", "frob"}, {"invite", "create", "--role", "root"}, {"invite", "create", "--role"},
		{"invite", "create", "--expires", "31d"}, {"invite", "create", "--expires", "soon"}, {"invite", "revoke"},
		{"invite", "list", "stray"}, {"site"}, {"site", "set", "colour", "red"}, {"site", "set", "title"},
		{"site", "paint"}, {"user", "list", "stray"}, {"user", "demote"}, {"user", "enable", "--data-dir"},
		{"user", "reset-2fa"}, {"user", "rekey-2fa", "stray"},
	} {
		wantUsageMistake(t, args)
	}
	for _, args := range [][]string{{"invite", "--help"}, {"site", "-h"}, {"user", "--help"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, envOf(nil), nil, &out, &errOut); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "Usage") || errOut.Len() != 0 {
			t.Errorf("%v: stdout %q, stderr %q", args, out.String(), errOut.String())
		}
	}
}
