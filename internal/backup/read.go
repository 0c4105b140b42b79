package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/palisade-blog/palisade/internal/blog"
)

// maxManifest bounds the manifest read into memory: a real one is well
// under a kilobyte.
const maxManifest = 1 << 20

// maxLine bounds one line of a part, read whole into memory before it is
// decoded. The largest valid record is a post: a title of 200 characters
// and content of 100,000, at most 4 bytes each in UTF-8, and HTML of at
// most markdown.MaxHTMLBytes (1 MiB); JSON escaping makes a byte at most 6
// ("\u0000"), so some 8.5 MiB. 16 MiB leaves room and still refuses a
// forged line long before it costs much memory.
const maxLine = 16 << 20

// ageMagic starts every binary age file.
var ageMagic = []byte("age-encryption.org/")

// Backup is a verified backup: its manifest, and its parts spooled to
// temporary files from which Records reads. Close removes them.
type Backup struct {
	Manifest Manifest
	parts    [kindCount]*os.File
	// read counts the bytes of the tar stream read so far, and spooled
	// the bytes written to the parts: see spoolPart.
	read    *countingReader
	spooled int64
}

// countingReader counts what passes through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Open reads a whole backup from r and verifies it before anything is
// restored: the manifest is present, last and of a format this Palisade
// reads; every part is known, there once, and matches the manifest's
// checksum and record count; every record decodes. Each refusal is an
// error of one line that says what is wrong. identities decrypt an
// encrypted backup; tempDir ("" for os.TempDir) holds the parts, since r
// may be a pipe that cannot be read twice.
func Open(r io.Reader, identities []age.Identity, tempDir string) (b *Backup, err error) {
	br := bufio.NewReader(r)
	in := io.Reader(br)
	if head, _ := br.Peek(len(ageMagic)); bytes.Equal(head, ageMagic) {
		if len(identities) == 0 {
			return nil, errEncrypted
		}
		dec, err := age.Decrypt(br, identities...)
		if err != nil {
			var noMatch *age.NoIdentityMatchError
			if errors.As(err, &noMatch) {
				return nil, errors.New("the backup is encrypted for other recipients: no --age-identity key opens it")
			}
			return nil, fmt.Errorf("decrypt the backup: %v", err)
		}
		in = dec
	} else if len(identities) > 0 {
		// Whoever asks to decrypt expects a file only they could have
		// made readable; a plain one in its place may be a substitute.
		return nil, errNotEncrypted
	}
	counted := &countingReader{r: in}
	in = counted
	b = &Backup{read: counted}
	defer func() {
		if err != nil {
			_ = b.Close()
			b = nil
		}
	}()
	sums, problems, err := b.spool(in, tempDir)
	if err != nil {
		return b, err
	}
	return b, b.verify(sums, problems)
}

// received is what reading a part found.
type received struct {
	bytes int64
	sum   string
}

// spool copies the tar stream's parts to temporary files and reads its
// manifest. Problems with names or order are collected, not returned at
// once: a newer format's file is best refused as that, which only the
// manifest can tell.
func (b *Backup) spool(in io.Reader, tempDir string) (sums [kindCount]*received, problems []string, err error) {
	tr := tar.NewReader(in)
	manifest := []byte(nil)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sums, nil, readError(err)
		}
		if sparse(h) {
			// archive/tar expands a sparse entry's holes into zeros: a
			// few bytes in the file could claim any size on disk. A
			// backup never holds one.
			return sums, nil, fmt.Errorf("entry %q is a sparse file: not a Palisade backup", h.Name)
		}
		if manifest != nil {
			problems = append(problems, fmt.Sprintf("%q comes after the manifest, which must be last", h.Name))
		}
		if h.Name == manifestName {
			if manifest != nil {
				problems = append(problems, "the manifest is there twice")
				continue
			}
			if manifest, err = io.ReadAll(io.LimitReader(tr, maxManifest)); err != nil {
				return sums, nil, readError(err)
			}
			if h.Size > maxManifest {
				return sums, nil, errors.New("the manifest is too large to be a Palisade backup's")
			}
			if sum := h.PAXRecords[manifestSumKey]; sum == "" || sum != sha256Hex(manifest) {
				return sums, nil, errors.New("the manifest does not match its checksum: the file is damaged")
			}
			continue
		}
		kind := slices.Index(partNames[:], h.Name)
		switch {
		case h.Typeflag != tar.TypeReg || kind < 0:
			problems = append(problems, fmt.Sprintf("unknown part %q", h.Name))
			if _, err := io.Copy(io.Discard, tr); err != nil {
				return sums, nil, readError(err)
			}
			continue
		case sums[kind] != nil:
			problems = append(problems, fmt.Sprintf("part %s is there twice", h.Name))
			if _, err := io.Copy(io.Discard, tr); err != nil {
				return sums, nil, readError(err)
			}
			continue
		}
		if sums[kind], err = b.spoolPart(tr, kind, tempDir); err != nil {
			return sums, nil, err
		}
	}
	if manifest == nil {
		return sums, nil, errors.New("the backup has no manifest: it is cut short, or not a Palisade backup")
	}
	if err := json.Unmarshal(manifest, &b.Manifest); err != nil {
		return sums, nil, errors.New("the manifest is not valid JSON: the file is damaged")
	}
	return sums, problems, nil
}

// spoolPart copies one part to a temporary file, hashing it on the way.
func (b *Backup) spoolPart(tr *tar.Reader, kind int, tempDir string) (*received, error) {
	f, err := os.CreateTemp(tempDir, "palisade-restore-part-*")
	if err != nil {
		return nil, fmt.Errorf("spool the backup: %w", err)
	}
	b.parts[kind] = f
	_ = os.Remove(f.Name()) // where the system allows: nothing left behind, even by a killed process
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, sum), &boundedPart{b: b, r: tr})
	if err != nil {
		if errors.Is(err, errInflated) {
			return nil, err
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) {
			return nil, readError(err)
		}
		return nil, fmt.Errorf("spool %s: %w", partNames[kind], err)
	}
	return &received{bytes: n, sum: hex.EncodeToString(sum.Sum(nil))}, nil
}

// sparse reports whether h is a sparse entry, in any of the forms
// archive/tar expands: the old GNU type, or PAX GNU.sparse records.
func sparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// errInflated is spooling's refusal of a stream that yields more than it
// holds.
var errInflated = errors.New("the backup's tar stream yields more bytes than it holds: not a Palisade backup")

// boundedPart reads a part and checks that everything spooled so far came
// from the stream byte for byte: with sparse entries refused, the tar
// reader gives no more than it read, so this never trips on an honest
// file, whatever its size; should any other way of expanding data exist,
// spooling stops as soon as the parts outgrow the bytes read (plus one
// tar block, which the reader may have in hand), instead of filling the
// disk. The parts can't be bounded by the file's size: it may be a pipe,
// and its size is unknown.
type boundedPart struct {
	b *Backup
	r io.Reader
}

func (p *boundedPart) Read(buf []byte) (int, error) {
	n, err := p.r.Read(buf)
	p.b.spooled += int64(n)
	if p.b.spooled > p.b.read.n+512 {
		return n, errInflated
	}
	return n, err
}

// readError says what a failed read of the stream means.
func readError(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the backup is cut short (truncated)")
	case errors.Is(err, tar.ErrHeader):
		return errors.New("not a Palisade backup (no tar stream), or damaged")
	default:
		// age reports a damaged or cut ciphertext here.
		return fmt.Errorf("read the backup: %v", err)
	}
}

// verify checks the manifest against the parts received.
func (b *Backup) verify(sums [kindCount]*received, problems []string) error {
	m := b.Manifest
	if m.Format > FormatVersion {
		return fmt.Errorf("the backup was made by a newer Palisade (format %d): upgrade first", m.Format)
	}
	if m.Format < 1 {
		return fmt.Errorf("the manifest has no valid format version (%d): not a Palisade backup", m.Format)
	}
	if len(problems) > 0 {
		return errors.New(problems[0])
	}
	listed := [kindCount]bool{}
	for _, p := range m.Parts {
		kind := slices.Index(partNames[:], p.Name)
		switch {
		case kind < 0:
			return fmt.Errorf("the manifest lists an unknown part %q", p.Name)
		case listed[kind]:
			return fmt.Errorf("the manifest lists part %s twice", p.Name)
		case sums[kind] == nil:
			return fmt.Errorf("part %s is missing", p.Name)
		case sums[kind].bytes != p.Bytes || sums[kind].sum != p.SHA256:
			return fmt.Errorf("part %s does not match its checksum in the manifest: the file is damaged", p.Name)
		}
		listed[kind] = true
		n, err := b.countRecords(kind)
		if err != nil {
			return err
		}
		if n != p.Records {
			return fmt.Errorf("part %s holds %d records, the manifest says %d", p.Name, n, p.Records)
		}
	}
	for kind, ok := range listed {
		if !ok {
			return fmt.Errorf("the manifest does not list part %s", partNames[kind])
		}
	}
	return nil
}

// countRecords decodes a whole part, and counts its records.
func (b *Backup) countRecords(kind int) (int, error) {
	n := 0
	for _, err := range b.part(kind) {
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// part yields the records of one part from its spool.
func (b *Backup) part(kind int) iter.Seq2[blog.Record, error] {
	return func(yield func(blog.Record, error) bool) {
		f := b.parts[kind]
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			yield(blog.Record{}, fmt.Errorf("read %s: %w", partNames[kind], err))
			return
		}
		lines := bufio.NewScanner(f)
		lines.Buffer(make([]byte, 0, 64<<10), maxLine)
		for i := 1; ; i++ {
			if !lines.Scan() {
				if err := lines.Err(); errors.Is(err, bufio.ErrTooLong) {
					yield(blog.Record{}, fmt.Errorf("part %s, record %d: longer than %d MiB, more than any valid record", partNames[kind], i, maxLine>>20))
				} else if err != nil {
					yield(blog.Record{}, fmt.Errorf("read %s: %w", partNames[kind], err))
				}
				return
			}
			r, err := decodeLine(lines.Bytes(), kind)
			if err != nil {
				yield(blog.Record{}, fmt.Errorf("part %s, record %d: %v", partNames[kind], i, err))
				return
			}
			if kind == kindSettings && i > 1 {
				yield(blog.Record{}, fmt.Errorf("part %s holds more than one record", partNames[kind]))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Records yields every record of the backup in Export's order, for a
// store's Import.
func (b *Backup) Records() iter.Seq2[blog.Record, error] {
	return func(yield func(blog.Record, error) bool) {
		for kind := range kindCount {
			for r, err := range b.part(kind) {
				if !yield(r, err) || err != nil {
					return
				}
			}
		}
	}
}

// Close removes the spooled parts.
func (b *Backup) Close() error {
	var errs []error
	for i, f := range b.parts {
		if f == nil {
			continue
		}
		errs = append(errs, f.Close())
		if err := os.Remove(f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		b.parts[i] = nil
	}
	return errors.Join(errs...)
}
