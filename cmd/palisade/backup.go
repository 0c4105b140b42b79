package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"golang.org/x/term"

	"github.com/palisade-blog/palisade/internal/backup"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/markdown"
)

const backupUsage = `Usage:
  palisade backup FILE|- [--age-recipient KEY]... [flags]
        write a backup of the blog to FILE, whole or not at all (a backup cut short leaves
        no FILE), or to standard output (-). --age-recipient (repeatable, or the
        comma-separated PALISADE_BACKUP_AGE_RECIPIENTS) encrypts it with age for these
        public keys (age1…); only their identities can restore it.
  palisade restore FILE|- [--age-identity FILE]... [flags]
        restore a backup into an empty database: the whole file is checked first, then
        every record is loaded, or none; posts' HTML is rendered again from their
        content. --age-identity is an age identity file that opens an encrypted
        backup; with it, a backup that is not encrypted is refused.

A backup holds the settings, accounts, posts, invites and passkeys, not sessions: after a
restore everyone signs in again. It holds password hashes and recovery-code hashes: keep
it as secret as the database, or encrypt it. A restore trusts the file: checksums catch
damage, not deliberate changes. Authenticator secrets stay sealed: restore with the same
PALISADE_2FA_KEYS. Flags are those of "palisade serve" that locate the database
(--data-dir, --database-url).
`

// errNotEmpty is restore's refusal of a store that holds records.
var errNotEmpty = errors.New("the store is not empty: restore only into a new database")

// backupCmd writes a backup of the configured store.
func backupCmd(ctx context.Context, args []string, env environment, stdout, stderr io.Writer) error {
	target, rest, err := backupArgs("backup", args, stdout, stderr)
	if target == "" || err != nil {
		return err
	}
	usageErr := func(format string, a ...any) error {
		fmt.Fprint(stderr, backupUsage)
		return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
	}
	var keys []string
	for {
		v, r, ok, err := takeFlag(rest, "age-recipient")
		if err != nil {
			return usageErr("%v", err)
		}
		if !ok {
			break
		}
		keys, rest = append(keys, v), r
	}
	recipients, err := parseRecipients(keys)
	if err != nil {
		return usageErr("--age-recipient: %v", err)
	}
	if target == "-" && isTerminal(stdout) {
		return usageErr("will not write a backup to a terminal: name a FILE or redirect standard output")
	}
	c, err := openCommand(ctx, "backup", rest, env, stdout, stderr, backupUsage)
	if err != nil {
		return err
	}
	defer c.close()
	if len(keys) == 0 {
		recipients = c.cfg.BackupRecipients // PALISADE_BACKUP_AGE_RECIPIENTS, checked by config.Load
	}
	store := c.store
	counts, err := store.Count(ctx)
	if err != nil {
		return commandFailure("backup: count records", err)
	}
	prog := newProgress(stderr, "backup", total(counts))
	opt := backup.Options{Store: storeKind(c.cfg), PalisadeVersion: version(), Recipients: recipients, Progress: prog.update}
	var m backup.Manifest
	if target == "-" {
		m, err = backup.Write(ctx, stdout, store.Export, opt)
	} else {
		m, err = backup.WriteFile(ctx, target, store.Export, opt)
	}
	prog.clear()
	if err != nil {
		return commandFailure("backup", err)
	}
	where := target
	if target == "-" {
		where = "standard output"
	}
	enc := ""
	if len(recipients) > 0 {
		enc = fmt.Sprintf(", encrypted for %d age recipient(s)", len(recipients))
	}
	fmt.Fprintf(stderr, "backup: %s written to %s in %s%s\n", summary(m), where, prog.elapsed(), enc)
	return nil
}

// restoreCmd loads a backup into the configured store, which must be
// empty.
func restoreCmd(ctx context.Context, args []string, env environment, stdin io.Reader, stdout, stderr io.Writer) error {
	source, rest, err := backupArgs("restore", args, stdout, stderr)
	if source == "" || err != nil {
		return err
	}
	var identities []age.Identity
	for {
		v, r, ok, err := takeFlag(rest, "age-identity")
		if err != nil {
			fmt.Fprint(stderr, backupUsage)
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if !ok {
			break
		}
		ids, err := readIdentities(v)
		if err != nil {
			return fmt.Errorf("restore: --age-identity %s: %v", v, err)
		}
		identities, rest = append(identities, ids...), r
	}
	c, err := openCommand(ctx, "restore", rest, env, stdout, stderr, backupUsage)
	if err != nil {
		return err
	}
	defer c.close()
	store := c.store
	if empty, err := store.Empty(ctx); err != nil {
		return commandFailure("restore", err)
	} else if !empty {
		return fmt.Errorf("restore: %w", errNotEmpty)
	}

	in, name := stdin, "standard input"
	if source != "-" {
		f, err := os.Open(source)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer func() { _ = f.Close() }()
		in, name = f, source
	}
	b, err := backup.Open(in, identities, "")
	if err != nil {
		return fmt.Errorf("restore: %s: %v; nothing was restored", name, err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			c.log.Warn("removing the restore's temporary files failed", "error", err)
		}
	}()
	prog := newProgress(stderr, "restore", b.Manifest.Records())
	md := markdown.New()
	records := func(yield func(blog.Record, error) bool) {
		done := 0
		for r, err := range b.Records() {
			if err == nil {
				err = rerender(md, r)
				done++
				prog.update(done)
			}
			if !yield(r, err) {
				return
			}
		}
	}
	_, err = store.Import(ctx, records)
	prog.clear()
	if errors.Is(err, blog.ErrNotEmpty) {
		return fmt.Errorf("restore: %w", errNotEmpty)
	}
	if err != nil {
		return commandFailure("restore: nothing was restored", err)
	}
	m := b.Manifest
	fmt.Fprintf(stderr, "restore: %s restored from %s in %s (a backup of %s made %s UTC by Palisade %s); everyone signs in again\n",
		summary(m), name, prog.elapsed(), plainText(m.Store), m.CreatedAt.UTC().Format(time.DateTime), plainText(m.PalisadeVersion))
	return nil
}

// plainText returns s as it is if it is plain printable text, else
// quoted with its escapes: a backup's manifest is the file's to say, and
// an escape sequence in it must not reach the terminal.
func plainText(s string) string {
	if q := strconv.Quote(s); q[1:len(q)-1] != s || s == "" || strings.ContainsAny(s, " \u00a0") {
		return q
	}
	return s
}

// rerender replaces a post's HTML with what this Palisade renders from its
// content. The backup's HTML is not trusted: a file edited by hand (and a
// plain backup can be) could otherwise put any script on the blog's
// pages. Rendering is bounded per post (package markdown), so a restore
// costs about what writing the posts once did. Content this renderer
// refuses is refused here, naming the post.
func rerender(md *markdown.Renderer, r blog.Record) error {
	if r.Post == nil {
		return nil
	}
	html, err := md.Render(r.Post.Content)
	if err != nil {
		return blog.Errorf(blog.EINVALID, "Post %q: its content can't be rendered (%s)", r.Post.ID, renderProblem(err))
	}
	r.Post.ContentHTML = html
	return nil
}

// renderProblem says in a few words why content was refused.
func renderProblem(err error) string {
	var ve *blog.ValidationError
	if errors.As(err, &ve) && len(ve.Fields) > 0 {
		return ve.Fields[0].Msg
	}
	return "the renderer failed"
}

// backupArgs takes FILE|- from the front of a backup or restore command's
// arguments. An empty target and no error means help was printed.
func backupArgs(cmd string, args []string, stdout, stderr io.Writer) (string, []string, error) {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, backupUsage)
		return "", nil, nil
	}
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && args[0] != "-") || args[0] == "" {
		fmt.Fprint(stderr, backupUsage)
		return "", nil, fmt.Errorf("%w: %s needs a FILE, or - for standard %s", errUsage, cmd, map[string]string{"backup": "output", "restore": "input"}[cmd])
	}
	return args[0], args[1:], nil
}

// parseRecipients reads age public keys; empty entries are skipped (a
// trailing comma).
func parseRecipients(keys []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		rs, err := age.ParseRecipients(strings.NewReader(k))
		if err != nil {
			return nil, errors.New("not an age public key (age1…)") // never echo what might be a secret key pasted by mistake
		}
		out = append(out, rs...)
	}
	return out, nil
}

// readIdentities reads an age identity file (as age-keygen writes it).
func readIdentities(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Unwrap(err) // the path is said by the caller
	}
	defer func() { _ = f.Close() }()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, errors.New("not an age identity file (AGE-SECRET-KEY-1…)")
	}
	return ids, nil
}

// storeKind names the configured store for the manifest.
func storeKind(cfg *config.Config) string {
	switch {
	case cfg.UsesPostgres():
		return "postgres"
	case cfg.UsesMongo():
		return "mongodb"
	default:
		return "sqlite"
	}
}

func total(c blog.Counts) int { return 1 + c.Users + c.Posts + c.Invites + c.Passkeys }

// summary says what a backup holds.
func summary(m backup.Manifest) string {
	c := m.Counts()
	return fmt.Sprintf("%d records (%d users, %d posts, %d invites, %d passkeys, the settings)", m.Records(), c.Users, c.Posts, c.Invites, c.Passkeys)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows, on a terminal, how far a backup or restore has come:
// records done of the total, the rate and the time left, redrawn at most
// four times a second. In a pipe it shows nothing (the summary follows).
type progress struct {
	w      io.Writer
	on     bool
	verb   string
	total  int
	now    func() time.Time
	start  time.Time
	last   time.Time
	drawn  bool
	redraw time.Duration
}

func newProgress(w io.Writer, verb string, total int) *progress {
	p := &progress{w: w, on: isTerminal(w), verb: verb, total: total, now: time.Now, redraw: time.Second / 4}
	p.start = p.now()
	return p
}

// update is called with the records done so far.
func (p *progress) update(done int) {
	if !p.on {
		return
	}
	now := p.now()
	if p.drawn && now.Sub(p.last) < p.redraw {
		return
	}
	p.last, p.drawn = now, true
	total := max(p.total, done) // writes may land after Count
	line := fmt.Sprintf("%s: %d of %d records", p.verb, done, total)
	if secs := now.Sub(p.start).Seconds(); secs > 0 && done > 0 {
		rate := float64(done) / secs
		left := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
		line += fmt.Sprintf(", %.0f/s, about %s left", rate, left)
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

// clear removes the progress line, for the summary to take its place.
func (p *progress) clear() {
	if p.on && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func (p *progress) elapsed() time.Duration {
	return p.now().Sub(p.start).Round(time.Millisecond)
}
