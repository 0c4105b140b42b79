package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/creack/pty"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/postgres/pgtest"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

func TestBackupUsage(t *testing.T) {
	for _, args := range [][]string{
		{"backup"}, {"restore"}, {"backup", "--data-dir", "x"}, {"backup", "f", "--nope"}, {"restore", "f", "--nope"},
		{"backup", "f", "--age-recipient"}, {"backup", "f", "--age-recipient", "AGE-SECRET-KEY-1NOTAPUBLICKEY"},
		{"restore", "f", "--age-identity"}, {"backup", "f", "stray"},
	} {
		wantUsageMistake(t, args)
	}
	for _, cmd := range []string{"backup", "restore"} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{cmd, "--help"}, nil, strings.NewReader(""), &out, &errOut); err != nil ||
			!strings.Contains(out.String(), "palisade restore FILE") || errOut.Len() != 0 {
			t.Errorf("%s --help: %v, stdout %q, stderr %q", cmd, err, out.String(), errOut.String())
		}
	}
}

func TestBackupRecipientsVariableChecked(t *testing.T) {
	var errOut bytes.Buffer
	env := envOf(map[string]string{"PALISADE_DATA_DIR": t.TempDir(), "PALISADE_BACKUP_AGE_RECIPIENTS": "age1nope"})
	err := run(context.Background(), []string{"backup", "x"}, env, strings.NewReader(""), &bytes.Buffer{}, &errOut)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "PALISADE_BACKUP_AGE_RECIPIENTS: not an age public key") {
		t.Fatalf("err %v (exit %d)", err, exitCode(err))
	}
	if strings.Contains(errOut.String(), "unknown variable") {
		t.Errorf("the recipients variable is reported unknown:\n%s", errOut.String())
	}
}

// TestProgress drives the progress line with a clock the test moves: it
// is redrawn at most four times a second, and says done of total, the
// rate and the time left.
func TestProgress(t *testing.T) {
	var out bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{w: &out, on: true, verb: "backup", total: 100, now: func() time.Time { return clock }, redraw: time.Second / 4}
	p.start = clock
	clock = clock.Add(time.Second)
	p.update(10)
	clock = clock.Add(100 * time.Millisecond)
	p.update(11) // too soon: not drawn
	clock = clock.Add(200 * time.Millisecond)
	p.update(13)
	p.clear()
	lines := strings.Split(out.String(), "\r")
	want := []string{"", "backup: 10 of 100 records, 10/s, about 9s left\x1b[K", "backup: 13 of 100 records, 10/s, about 9s left\x1b[K", "\x1b[K"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("progress drew %q, want %q", lines, want)
	}
	var pipe bytes.Buffer
	q := newProgress(&pipe, "backup", 3)
	q.update(1)
	q.clear()
	if pipe.Len() != 0 {
		t.Errorf("progress in a pipe: %q", pipe.String())
	}
}

// cli runs one command on the SQLite database in dir and returns its
// standard output and standard error.
func cli(t *testing.T, dir string, stdin io.Reader, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(args, "--data-dir", dir), envOf(nil), stdin, &out, &errOut)
	return out.String(), errOut.String(), err
}

// exportDir reads every record of the SQLite database in dir.
func exportDir(t *testing.T, dir string) []blog.Record {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	var records []blog.Record
	if _, err := store.Export(t.Context(), func(r blog.Record) error { records = append(records, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return records
}

// populate makes a blog in dir with two accounts, posts, an invite and
// site settings, through the real server and commands.
func populate(t *testing.T, dir string) {
	t.Helper()
	base, stop, _ := startServe(t, apptest.FreeAddr(t), map[string]string{"PALISADE_DATA_DIR": dir, "PALISADE_REGISTRATION": "open"})
	api := apptest.NewClient(t, base)
	alice := api.SignUp(t, "alice")
	bob := api.SignUp(t, "bob")
	api.Post(t, "/posts", alice, map[string]any{"title": "Published", "content": "**Hello** <script>x</script>", "status": "published"}).Want(t, http.StatusCreated)
	api.Post(t, "/posts", bob, map[string]any{"title": "Draft", "content": "Not yet ready for anyone to read"}).Want(t, http.StatusCreated)
	stopServe(t, stop)
	for _, args := range [][]string{{"site", "set", "title", "Restored blog"}, {"invite", "create"}, {"user", "promote", "alice"}} {
		if _, _, err := cli(t, dir, strings.NewReader(""), args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
}

// TestBackupRestoreEndToEnd backs up a blog on SQLite, restores it into
// a new data directory, and finds the same records there, and accounts
// that sign in with their passwords.
func TestBackupRestoreEndToEnd(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	populate(t, src)
	file := filepath.Join(t.TempDir(), "blog.backup")
	out, errOut, err := cli(t, src, strings.NewReader(""), "backup", file)
	if err != nil || out != "" || !strings.Contains(errOut, "backup: 6 records (2 users, 2 posts, 1 invites, 0 passkeys, the settings) written to "+file) {
		t.Fatalf("backup: %v, stdout %q, stderr %q", err, out, errOut)
	}
	if strings.Contains(errOut, "\r") {
		t.Errorf("progress drawn in a pipe: %q", errOut)
	}
	if _, errOut, err = cli(t, dst, strings.NewReader(""), "restore", file); err != nil || !strings.Contains(errOut, "restore: 6 records") || !strings.Contains(errOut, "a backup of sqlite") {
		t.Fatalf("restore: %v, %q", err, errOut)
	}
	if got, want := exportDir(t, dst), exportDir(t, src); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored records differ:\n got %v\nwant %v", got, want)
	}

	t.Run("SignInWorks", func(t *testing.T) {
		base, stop, _ := startServe(t, apptest.FreeAddr(t), map[string]string{"PALISADE_DATA_DIR": dst})
		defer stopServe(t, stop)
		api := apptest.NewClient(t, base)
		token := api.Login(t, "alice")
		me := api.Get(t, "/users/me", token).Want(t, http.StatusOK).Text()
		if !strings.Contains(me, `"admin"`) {
			t.Errorf("alice after restore: %s", me)
		}
		if page := api.Page(t, "/").Want(t, http.StatusOK).Text(); !strings.Contains(page, "Restored blog") || !strings.Contains(page, "Published") {
			t.Errorf("home page after restore lacks the title or the post")
		}
	})
	t.Run("RefusesNonEmptyStore", func(t *testing.T) {
		_, _, err := cli(t, dst, strings.NewReader(""), "restore", file)
		if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "the store is not empty: restore only into a new database") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ThroughPipes", func(t *testing.T) {
		var stream bytes.Buffer
		if err := run(context.Background(), []string{"backup", "-", "--data-dir", src}, nil, strings.NewReader(""), &stream, io.Discard); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, _, err := cli(t, dir, &stream, "restore", "-"); err != nil {
			t.Fatal(err)
		}
		if got, want := exportDir(t, dir), exportDir(t, src); !reflect.DeepEqual(got, want) {
			t.Fatal("records differ after a restore from a pipe")
		}
	})
}

// TestRestoreRefusesBadBackups: a damaged, forged, newer or foreign
// backup is refused with a line saying why, and nothing is restored: the
// good backup then restores into the same database.
func TestRestoreRefusesBadBackups(t *testing.T) {
	src := t.TempDir()
	populate(t, src)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain, enc := filepath.Join(dir, "plain.backup"), filepath.Join(dir, "enc.backup")
	if _, _, err := cli(t, src, nil, "backup", plain); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	env := envOf(map[string]string{"PALISADE_BACKUP_AGE_RECIPIENTS": id.Recipient().String() + ","})
	if err := run(context.Background(), []string{"backup", enc, "--data-dir", src}, env, nil, io.Discard, &errOut); err != nil ||
		!strings.Contains(errOut.String(), "encrypted for 1 age recipient") {
		t.Fatalf("encrypted backup: %v %q", err, errOut.String())
	}
	keyFile := func(ident *age.X25519Identity) string {
		p := filepath.Join(t.TempDir(), "key.txt")
		if err := os.WriteFile(p, []byte("# a key\n"+ident.String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	variant := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flip := func(marker string) []byte {
		i := bytes.Index(good, []byte(marker))
		if i < 0 {
			t.Fatalf("no %q in the backup", marker)
		}
		d := bytes.Clone(good)
		d[i] ^= 0x20
		return d
	}
	// A newer Palisade's file: a manifest of format 7, checksummed as
	// that Palisade would.
	newer := rewriteManifest(t, good, func(m []byte) []byte { return bytes.Replace(m, []byte(`"format": 1`), []byte(`"format": 7`), 1) })
	forgedManifest := bytes.Replace(good, []byte(`"format": 1`), []byte(`"format": 7`), 1)

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"FlippedPost", []string{variant("post.backup", flip("Not yet ready"))}, "part posts.jsonl does not match its checksum"},
		{"FlippedUser", []string{variant("user.backup", flip("bob"))}, "part users.jsonl does not match its checksum"},
		{"FlippedManifest", []string{variant("manifest.backup", flip(`"store"`))}, "the manifest does not match its checksum"},
		{"Truncated", []string{variant("cut.backup", good[:len(good)*2/3])}, "cut short"},
		{"NewerFormat", []string{variant("newer.backup", newer)}, "made by a newer Palisade (format 7): upgrade first"},
		{"EditedManifest", []string{variant("edited.backup", forgedManifest)}, "the manifest does not match its checksum"},
		{"WrongIdentity", []string{enc, "--age-identity", keyFile(other)}, "no --age-identity key opens it"},
		{"NoIdentity", []string{enc}, "restore needs --age-identity"},
		{"PlainWithIdentity", []string{plain, "--age-identity", keyFile(id)}, "not encrypted, yet --age-identity was given"},
		{"Missing", []string{filepath.Join(dir, "nothing")}, "no such file"},
	}
	target := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := cli(t, target, nil, append([]string{"restore"}, c.args...)...)
			if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v; want exit 1 saying %q in one line", err, c.want)
			}
		})
	}
	if n := len(exportDir(t, target)); n != 1 { // the settings row every store has
		t.Fatalf("%d records after refused restores", n)
	}
	if _, _, err := cli(t, target, nil, "restore", enc, "--age-identity", keyFile(id)); err != nil {
		t.Fatalf("the good encrypted backup: %v", err)
	}
	if got, want := exportDir(t, target), exportDir(t, src); !reflect.DeepEqual(got, want) {
		t.Fatal("records differ after the encrypted restore")
	}
}

// rewriteManifest returns the backup data with its manifest edited and
// its manifest's checksum (a PAX record) made to match.
func rewriteManifest(t *testing.T, data []byte, edit func([]byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "manifest.json" {
			body = edit(body)
			sum := sha256.Sum256(body)
			h.PAXRecords = map[string]string{"PALISADE.sha256": hex.EncodeToString(sum[:])}
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestBackupWhileWriting takes a backup while posts are being written
// through the running server: every post acknowledged before the backup
// began is restored.
func TestBackupWhileWriting(t *testing.T) {
	src := t.TempDir()
	base, stop, _ := startServe(t, apptest.FreeAddr(t), map[string]string{"PALISADE_DATA_DIR": src, "PALISADE_REGISTRATION": "open", "PALISADE_RATE_LIMIT": "100000/1m"})
	defer stopServe(t, stop)
	api := apptest.NewClient(t, base)
	token := api.SignUp(t, "writer")

	var mu sync.Mutex
	var acked []string
	done := make(chan struct{})
	stopWriting := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			r := api.Do(t, apptest.Request{Method: http.MethodPost, Path: "/posts", Token: token, Body: map[string]string{"title": fmt.Sprintf("Post %d", i), "content": "Written during a backup"}})
			if r.Status != http.StatusCreated {
				t.Errorf("create: %d %s", r.Status, r.Body)
				return
			}
			var b struct{ Post struct{ ID string } }
			if err := json.Unmarshal(r.Body, &b); err != nil {
				t.Errorf("create: %v", err)
				return
			}
			mu.Lock()
			acked = append(acked, b.Post.ID)
			mu.Unlock()
		}
	}()
	waitFor := func(n int) {
		for {
			mu.Lock()
			k := len(acked)
			mu.Unlock()
			if k >= n {
				return
			}
			select {
			case <-done:
				t.Fatal("the writer stopped")
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	waitFor(20)
	mu.Lock()
	before := slices.Clone(acked)
	mu.Unlock()
	file := filepath.Join(t.TempDir(), "live.backup")
	_, _, err := cli(t, src, nil, "backup", file)
	waitFor(len(before) + 5) // writes went on around the backup
	close(stopWriting)
	<-done
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	dst := t.TempDir()
	if _, _, err := cli(t, dst, nil, "restore", file); err != nil {
		t.Fatalf("restore: %v", err)
	}
	restored := map[string]bool{}
	for _, r := range exportDir(t, dst) {
		if r.Post != nil {
			restored[r.Post.ID] = true
		}
	}
	for _, id := range before {
		if !restored[id] {
			t.Fatalf("post %s, acknowledged before the backup began, is not in it (%d of %d restored)", id, len(restored), len(before))
		}
	}
}

// TestMoveSQLiteToPostgres does what the README says to move a blog:
// backup on SQLite, restore into PostgreSQL, serve from there.
func TestMoveSQLiteToPostgres(t *testing.T) {
	dbURL := pgtest.Schema(t) // skips without PALISADE_TEST_POSTGRES_URL
	src := t.TempDir()
	populate(t, src)
	file := filepath.Join(t.TempDir(), "blog.backup")
	if _, _, err := cli(t, src, nil, "backup", file); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PALISADE_DATA_DIR": t.TempDir(), "PALISADE_DATABASE_URL": dbURL}
	var errOut bytes.Buffer
	if err := run(context.Background(), []string{"restore", file}, envOf(env), nil, io.Discard, &errOut); err != nil || !strings.Contains(errOut.String(), "restore: 6 records") {
		t.Fatalf("restore into PostgreSQL: %v\n%s", err, errOut.String())
	}
	store, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	var got []blog.Record
	_, err = store.Export(t.Context(), func(r blog.Record) error { got = append(got, r); return nil })
	_ = store.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := exportDir(t, src); !reflect.DeepEqual(got, want) {
		t.Fatalf("records on PostgreSQL differ:\n got %v\nwant %v", got, want)
	}
	base, stop, _ := startServe(t, apptest.FreeAddr(t), env)
	defer stopServe(t, stop)
	apptest.NewClient(t, base).Login(t, "bob")
}

// TestBackupProgressAtTerminal: with standard error a terminal, the
// progress line is drawn and then replaced by the summary.
func TestBackupProgressAtTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer func() { _ = ptmx.Close() }()
	screen := &lockedBuffer{}
	go func() { _, _ = io.Copy(screen, ptmx) }() // ends when ptmx closes
	dir := t.TempDir()
	if _, _, err := cli(t, dir, strings.NewReader(apptest.Password+"\n"), "user", "create", "ada"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "b")
	if err := run(context.Background(), []string{"backup", file, "--data-dir", dir}, nil, nil, io.Discard, tty); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(screen.String(), "written to"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no summary on the terminal: %q", screen)
		}
	}
	_ = tty.Close()
	if s := screen.String(); !strings.Contains(s, "\rbackup: 1 of 2 records") || !strings.Contains(s, "\r\x1b[Kbackup: 2 records (1 users") {
		t.Fatalf("terminal showed %q", s)
	}
}

// forge returns the backup data with one part edited and the manifest
// made to match it: checksums catch damage, not a deliberate change.
func forge(t *testing.T, data []byte, part string, edit func([]byte) []byte, editManifest func(map[string]any)) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	var edited []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		switch h.Name {
		case part:
			body = edit(body)
			edited = body
		case "manifest.json":
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			for _, p := range m["parts"].([]any) {
				if p := p.(map[string]any); p["name"] == part {
					sum := sha256.Sum256(edited)
					p["bytes"], p["sha256"], p["records"] = len(edited), hex.EncodeToString(sum[:]), bytes.Count(edited, []byte("\n"))
				}
			}
			if editManifest != nil {
				editManifest(m)
			}
			if body, err = json.Marshal(m); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(body)
			h.PAXRecords = map[string]string{"PALISADE.sha256": hex.EncodeToString(sum[:])}
		}
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestRestoreForgedBackups: a backup edited with care, checksums and
// all, is still held to what the blog stores: a post's HTML is rendered
// again from its content, a hostile username or a repeated record is
// refused as what it is, and the manifest's strings reach the terminal
// quoted, escape sequences and all.
func TestRestoreForgedBackups(t *testing.T) {
	src := t.TempDir()
	populate(t, src)
	plain := filepath.Join(t.TempDir(), "plain.backup")
	if _, _, err := cli(t, src, nil, "backup", plain); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	write := func(data []byte) string {
		p := filepath.Join(t.TempDir(), "forged.backup")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("ScriptInHTML", func(t *testing.T) {
		forged := forge(t, good, "posts.jsonl", func(b []byte) []byte {
			return regexp.MustCompile(`"contentHtml":"[^"]*"`).ReplaceAll(b, []byte(`"contentHtml":"\u003cscript\u003ealert(1)\u003c/script\u003e"`))
		}, func(m map[string]any) {
			m["store"], m["palisadeVersion"] = "sqlite\x1b[31mRED", "\x1b]8;;http://evil/\x07click"
		})
		dir := t.TempDir()
		_, errOut, err := cli(t, dir, nil, "restore", write(forged))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(errOut, "\x1b") || !strings.Contains(errOut, `"sqlite\x1b[31mRED"`) {
			t.Errorf("the manifest's strings reached the terminal as they are: %q", errOut)
		}
		restored, want := exportDir(t, dir), exportDir(t, src)
		if !reflect.DeepEqual(restored, want) {
			t.Fatal("the restored posts' HTML is not what Palisade renders")
		}
		for _, r := range restored {
			if r.Post != nil && strings.Contains(r.Post.ContentHTML, "<script") {
				t.Fatalf("the forged HTML was restored: %q", r.Post.ContentHTML)
			}
		}
	})
	cases := []struct {
		name, part string
		edit       func([]byte) []byte
		want       string
	}{
		{"HostileUsername", "users.jsonl", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"bob"`), []byte(`"\u001b[2J\u001b]0;pwned\u0007bob\u202e x"`), 1)
		}, "Invalid backup record: a username"},
		{"LongUsername", "users.jsonl", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"bob"`), []byte(`"`+strings.Repeat("x", 200_000)+`"`), 1)
		}, "Invalid backup record: a username"},
		{"RepeatedPost", "posts.jsonl", func(b []byte) []byte {
			first := b[:bytes.IndexByte(b, '\n')+1]
			return append(bytes.Clone(b), first...)
		}, "A backup record repeats the ID of another"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, _, err := cli(t, dir, nil, "restore", write(forge(t, good, c.part, c.edit, nil)))
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "not empty") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v; want one line saying %q", err, c.want)
			}
			if n := len(exportDir(t, dir)); n != 1 {
				t.Fatalf("%d records after a refused restore", n)
			}
		})
	}
}
