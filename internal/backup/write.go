package backup

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/palisade-blog/palisade/internal/blog"
)

// ExportFunc is a store's Export (blog.BackupStore).
type ExportFunc func(ctx context.Context, emit func(blog.Record) error) (blog.Counts, error)

// Options are what a backup records about itself and how it is written.
type Options struct {
	Store           string // the source store's kind, for the manifest
	PalisadeVersion string
	// Recipients, if any, encrypt the whole file with age: only their
	// identities can read it.
	Recipients []age.Recipient
	// Progress, if set, is called after each record with the number
	// done so far.
	Progress func(done int)
	// TempDir holds the one part being spooled (tar needs a part's size
	// before its bytes); "" is os.TempDir.
	TempDir string
}

// Write writes a backup of what export emits to w. One part at a time is
// spooled to a temporary file, so memory stays bounded whatever the
// store's size. On error, what was written to w is no backup (it has no
// manifest).
func Write(ctx context.Context, w io.Writer, export ExportFunc, opt Options) (Manifest, error) {
	out := w
	var enc io.WriteCloser
	if len(opt.Recipients) > 0 {
		var err error
		if enc, err = age.Encrypt(w, opt.Recipients...); err != nil {
			return Manifest{}, fmt.Errorf("encrypt the backup: %w", err)
		}
		out = enc
	}
	spool, err := os.CreateTemp(opt.TempDir, "palisade-backup-part-*")
	if err != nil {
		return Manifest{}, fmt.Errorf("spool the backup: %w", err)
	}
	// Unlinked at once where the system allows, so that even a killed
	// process leaves no spool behind; elsewhere, removed when done.
	_ = os.Remove(spool.Name())
	defer func() {
		_ = spool.Close()
		_ = os.Remove(spool.Name())
	}()
	m := Manifest{Format: FormatVersion, CreatedAt: blog.Now().UTC(), Store: opt.Store, PalisadeVersion: opt.PalisadeVersion}
	pw := &partWriter{ctx: ctx, tw: tar.NewWriter(out), spool: spool, manifest: &m, progress: opt.Progress}
	pw.reset()
	if _, err := export(ctx, pw.add); err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	for pw.kind < kindCount {
		if err := pw.finishPart(); err != nil {
			return Manifest{}, err
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("write the manifest: %w", err)
	}
	data = append(data, '\n')
	h := pw.header(manifestName, int64(len(data)))
	h.PAXRecords = map[string]string{manifestSumKey: sha256Hex(data)}
	if err := pw.tw.WriteHeader(h); err != nil {
		return Manifest{}, fmt.Errorf("write the manifest: %w", err)
	}
	if _, err := pw.tw.Write(data); err != nil {
		return Manifest{}, fmt.Errorf("write the manifest: %w", err)
	}
	if err := pw.tw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("finish the backup: %w", err)
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return Manifest{}, fmt.Errorf("finish the encryption: %w", err)
		}
	}
	return m, nil
}

// partWriter takes the records of Export, in order, and writes each part
// to the tar stream once its last record has come.
type partWriter struct {
	ctx      context.Context
	tw       *tar.Writer
	spool    *os.File
	buf      *bufio.Writer
	sum      hash.Hash
	enc      *json.Encoder
	manifest *Manifest
	progress func(int)
	kind     int // the part being spooled
	records  int // in it
	done     int // in all
}

// reset empties the spool for the next part.
func (p *partWriter) reset() {
	p.sum = sha256.New()
	p.buf = bufio.NewWriter(io.MultiWriter(p.spool, p.sum))
	p.enc = json.NewEncoder(p.buf)
	p.enc.SetEscapeHTML(false) // the bytes as stored; JSON needs no HTML escaping
	p.records = 0
}

// add is Export's emit.
func (p *partWriter) add(r blog.Record) error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	kind, err := kindOf(r)
	if err != nil {
		return err
	}
	if kind < p.kind {
		return fmt.Errorf("export gave a %s record after %s ones", partNames[kind], partNames[p.kind])
	}
	for p.kind < kind {
		if err := p.finishPart(); err != nil {
			return err
		}
	}
	if err := p.enc.Encode(payload(r, kind)); err != nil {
		return fmt.Errorf("write %s: %w", partNames[kind], err)
	}
	p.records++
	p.done++
	if p.progress != nil {
		p.progress(p.done)
	}
	return nil
}

// finishPart copies the spooled part into the tar stream, adds it to the
// manifest and moves on to the next kind.
func (p *partWriter) finishPart() error {
	name := partNames[p.kind]
	if err := p.buf.Flush(); err != nil {
		return fmt.Errorf("spool %s: %w", name, err)
	}
	size, err := p.spool.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("spool %s: %w", name, err)
	}
	if _, err := p.spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spool %s: %w", name, err)
	}
	if err := p.tw.WriteHeader(p.header(name, size)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := io.CopyN(p.tw, p.spool, size); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	p.manifest.Parts = append(p.manifest.Parts, Part{Name: name, Records: p.records, Bytes: size, SHA256: hex.EncodeToString(p.sum.Sum(nil))})
	if err := p.spool.Truncate(0); err != nil {
		return fmt.Errorf("spool %s: %w", name, err)
	}
	if _, err := p.spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spool %s: %w", name, err)
	}
	p.kind++
	p.reset()
	return nil
}

func (p *partWriter) header(name string, size int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: p.manifest.CreatedAt, Format: tar.FormatPAX}
}

// WriteFile writes a backup to path, whole or not at all: to a
// path.partial-RANDOM file in the same directory, synced and renamed to
// path only once complete, and removed on any error (a process killed
// outright leaves it behind, named so).
func WriteFile(ctx context.Context, path string, export ExportFunc, opt Options) (m Manifest, err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".partial-*")
	if err != nil {
		return Manifest{}, fmt.Errorf("create the backup file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return Manifest{}, fmt.Errorf("create the backup file: %w", err)
	}
	if opt.TempDir == "" {
		opt.TempDir = dir // the spool needs as much room as the file's largest part
	}
	if m, err = Write(ctx, f, export, opt); err != nil {
		return Manifest{}, err
	}
	if err := f.Sync(); err != nil {
		return Manifest{}, fmt.Errorf("sync the backup file: %w", err)
	}
	if err := f.Close(); err != nil {
		return Manifest{}, fmt.Errorf("close the backup file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return Manifest{}, fmt.Errorf("name the backup file: %w", err)
	}
	return m, syncDir(dir)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync the backup's directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync the backup's directory: %w", err)
	}
	return nil
}
