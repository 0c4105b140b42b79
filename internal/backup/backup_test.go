package backup

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
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/palisade-blog/palisade/internal/blog"
)

// sample is a small blog's records in Export's order, every kind present.
func sample() []blog.Record {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	used := at.Add(time.Hour)
	return []blog.Record{
		{Settings: &blog.SettingsRecord{Title: "A <blog>", Description: "about & things"}},
		{User: &blog.UserRecord{ID: "u1", Username: "ada", PasswordHash: "$argon2id$v=19$x", Role: blog.RoleAdmin, CreatedAt: at, TokenVersion: 3,
			TOTPSecret: "sealed:abc", TOTPEnabled: true, TOTPLastStep: 42, RecoveryCodes: []string{"h1", "h2"}}},
		{User: &blog.UserRecord{ID: "u2", Username: "bob", PasswordHash: "$argon2id$v=19$y", Role: blog.RoleAuthor, Disabled: true, CreatedAt: at}},
		{Post: &blog.PostRecord{ID: "p1", AuthorID: "u1", Title: "Hello", Content: "**hi**\n", ContentHTML: "<p><strong>hi</strong></p>\n",
			Status: blog.StatusPublished, CreatedAt: at, UpdatedAt: at, PublishedAt: &at}},
		{Post: &blog.PostRecord{ID: "p2", AuthorID: "u2", Title: "Draft", Content: "x", ContentHTML: "<p>x</p>", Status: blog.StatusDraft, CreatedAt: at, UpdatedAt: at}},
		{Invite: &blog.InviteRecord{Invite: blog.Invite{ID: "i1", Role: blog.RoleAuthor, CreatedBy: "u1", CreatedAt: at, ExpiresAt: at.Add(48 * time.Hour), UsedAt: &used, UsedBy: "u2"}, TokenHash: "abcd"}},
		{Passkey: &blog.PasskeyRecord{ID: "cred1", UserID: "u1", Name: "Phone", PublicKey: []byte{1, 2, 3}, AttestationType: "none", AAGUID: make([]byte, 16), Transports: []string{"internal"}, SignCount: 7}},
	}
}

// exportOf is a fake Export over records, standing in for a store.
func exportOf(records []blog.Record) ExportFunc {
	return func(ctx context.Context, emit func(blog.Record) error) (blog.Counts, error) {
		for _, r := range records {
			if err := emit(r); err != nil {
				return blog.Counts{}, err
			}
		}
		return blog.Counts{}, nil
	}
}

func writeSample(t *testing.T, opt Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Write(context.Background(), &buf, exportOf(sample()), opt); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

// readAll opens a backup and collects its records.
func readAll(t *testing.T, data []byte, ids ...age.Identity) ([]blog.Record, Manifest, error) {
	t.Helper()
	b, err := Open(bytes.NewReader(data), ids, t.TempDir())
	if err != nil {
		return nil, Manifest{}, err
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	var got []blog.Record
	for r, err := range b.Records() {
		if err != nil {
			return nil, Manifest{}, err
		}
		got = append(got, r)
	}
	return got, b.Manifest, nil
}

func TestRoundTrip(t *testing.T) {
	data := writeSample(t, Options{Store: "sqlite", PalisadeVersion: "v9.9.9"})
	got, m, err := readAll(t, data)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !reflect.DeepEqual(got, sample()) {
		t.Fatalf("records differ:\n got %s\nwant %s", jsonOf(got), jsonOf(sample()))
	}
	if m.Format != FormatVersion || m.Store != "sqlite" || m.PalisadeVersion != "v9.9.9" || m.CreatedAt.IsZero() {
		t.Errorf("manifest %+v", m)
	}
	if c := m.Counts(); c != (blog.Counts{Users: 2, Posts: 2, Invites: 1, Passkeys: 1}) || m.Records() != 7 {
		t.Errorf("counts %+v, records %d", c, m.Records())
	}
	names := entryNames(t, data)
	want := append(append([]string{}, partNames[:]...), manifestName)
	if !reflect.DeepEqual(names, want) {
		t.Errorf("entries %v, want %v (manifest last)", names, want)
	}
}

func TestRoundTripEmptyStoreAndProgress(t *testing.T) {
	var buf bytes.Buffer
	if _, err := Write(context.Background(), &buf, exportOf(nil), Options{Store: "postgres"}); err != nil {
		t.Fatal(err)
	}
	got, m, err := readAll(t, buf.Bytes())
	if err != nil || len(got) != 0 || len(m.Parts) != len(partNames) {
		t.Fatalf("got %d records, %d parts, %v", len(got), len(m.Parts), err)
	}
	calls := 0
	writeSample(t, Options{Progress: func(done int) {
		calls++
		if done != calls {
			t.Errorf("progress %d at call %d", done, calls)
		}
	}})
	if calls != len(sample()) {
		t.Errorf("progress called %d times, want %d", calls, len(sample()))
	}
}

func TestWriteRefusesBadExports(t *testing.T) {
	s := sample()
	for name, recs := range map[string][]blog.Record{
		"OutOfOrder": {s[3], s[1]},
		"TwoKinds":   {{User: s[1].User, Post: s[3].Post}},
		"NoKind":     {{}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Write(context.Background(), io.Discard, exportOf(recs), Options{}); err == nil {
				t.Fatal("Write accepted it")
			}
		})
	}
}

// tarEntry is one entry of a backup's tar stream.
type tarEntry struct {
	name string
	data []byte
	pax  map[string]string
}

func entries(t *testing.T, data []byte) []tarEntry {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var out []tarEntry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{h.Name, b, h.PAXRecords})
	}
}

func entryNames(t *testing.T, data []byte) []string {
	var names []string
	for _, e := range entries(t, data) {
		names = append(names, e.name)
	}
	return names
}

// build makes a tar stream of these entries, as a damaged or forged
// backup would be.
func build(t *testing.T, es []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.data)), Typeflag: tar.TypeReg, PAXRecords: e.pax}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// editManifest rewrites the manifest entry of es with edit.
func editManifest(t *testing.T, es []tarEntry, edit func(*Manifest)) []tarEntry {
	t.Helper()
	out := append([]tarEntry{}, es...)
	last := &out[len(out)-1]
	var m Manifest
	if err := json.Unmarshal(last.data, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	last.data = b
	last.pax = map[string]string{manifestSumKey: sha(b)} // forged with care
	return out
}

// TestRefusals damages a good backup in each way a file can be damaged
// or forged; each is refused whole, with a message that names the
// problem, and no record comes out.
func TestRefusals(t *testing.T) {
	good := writeSample(t, Options{})
	es := entries(t, good)
	cases := map[string]struct {
		data []byte
		want string
	}{}
	for i, e := range es {
		flipped := append([]tarEntry{}, es...)
		d := append([]byte{}, e.data...)
		d[len(d)/2] ^= 0x01
		flipped[i] = tarEntry{e.name, d, e.pax}
		want := "part " + e.name + " does not match its checksum"
		if e.name == manifestName {
			want = "the manifest does not match its checksum"
		}
		cases["FlippedByteIn_"+e.name] = struct {
			data []byte
			want string
		}{build(t, flipped), want}
	}
	add := func(name string, data []byte, want string) {
		cases[name] = struct {
			data []byte
			want string
		}{data, want}
	}
	add("Truncated", good[:len(good)/2], "cut short")
	add("TruncatedInManifest", good[:len(good)-1024-100], "cut short")
	add("Empty", nil, "no manifest")
	add("NotTar", []byte(strings.Repeat("hello, not a backup\n", 50)), "not a Palisade backup")
	add("MissingManifest", build(t, es[:len(es)-1]), "no manifest")
	add("ManifestNotLast", build(t, append([]tarEntry{es[len(es)-1]}, es[:len(es)-1]...)), "comes after the manifest")
	add("NewerFormat", build(t, editManifest(t, append(es[:len(es)-1:len(es)-1], tarEntry{"extra.jsonl", []byte("{}\n"), nil}, es[len(es)-1]), func(m *Manifest) { m.Format = 2 })),
		"made by a newer Palisade (format 2): upgrade first")
	add("NoFormat", build(t, editManifest(t, es, func(m *Manifest) { m.Format = 0 })), "no valid format version")
	add("UnknownPart", build(t, append(es[:len(es)-1:len(es)-1], tarEntry{"extra.jsonl", []byte("{}\n"), nil}, es[len(es)-1])), `unknown part "extra.jsonl"`)
	add("DuplicatePart", build(t, append(es[:2:2], es[1:]...)), "part users.jsonl is there twice")
	add("MissingPart", build(t, append(es[:1:1], es[2:]...)), "part users.jsonl is missing")
	add("UnlistedPart", build(t, editManifest(t, es, func(m *Manifest) { m.Parts = m.Parts[1:] })), "does not list part settings.jsonl")
	add("WrongCount", build(t, editManifest(t, es, func(m *Manifest) { m.Parts[1].Records = 3 })), "users.jsonl holds 2 records, the manifest says 3")
	// A record with a field this Palisade does not know, checksummed as
	// if it were honest: refused, not silently dropped.
	forged := append([]tarEntry{}, es...)
	forged[1] = tarEntry{"users.jsonl", append(append([]byte{}, es[1].data...), []byte(`{"id":"u3","username":"eve","shadow":"x"}`+"\n")...), nil}
	forged = editManifest(t, forged, func(m *Manifest) {
		m.Parts[1] = Part{Name: "users.jsonl", Records: 3, Bytes: int64(len(forged[1].data)), SHA256: sha(forged[1].data)}
	})
	add("UnknownField", build(t, forged), `unknown field "shadow"`)

	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, _, err := readAll(t, c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one saying %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			if len(got) != 0 {
				t.Errorf("%d records came out of a refused backup", len(got))
			}
		})
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestEncrypted(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	data := writeSample(t, Options{Recipients: []age.Recipient{id.Recipient()}})
	if bytes.Contains(data, []byte("ada")) || bytes.Contains(data, []byte("manifest.json")) {
		t.Fatal("the encrypted backup shows its contents")
	}
	t.Run("RightIdentity", func(t *testing.T) {
		got, _, err := readAll(t, data, other, id)
		if err != nil || !reflect.DeepEqual(got, sample()) {
			t.Fatalf("got %d records, %v", len(got), err)
		}
	})
	for name, c := range map[string]struct {
		data []byte
		ids  []age.Identity
		want string
	}{
		"WrongIdentity": {data, []age.Identity{other}, "encrypted for other recipients"},
		"NoIdentity":    {data, nil, "restore needs --age-identity"},
		"Truncated":     {data[:len(data)-10], []age.Identity{id}, "read the backup"},
		// A plain file where an encrypted one was expected: refused.
		"PlainWithIdentity": {writeSample(t, Options{}), []age.Identity{id}, "not encrypted, yet --age-identity was given"},
	} {
		t.Run(name, func(t *testing.T) {
			got, _, err := readAll(t, c.data, c.ids...)
			if err == nil || !strings.Contains(err.Error(), c.want) || len(got) != 0 {
				t.Fatalf("got %d records, err %v; want refused with %q", len(got), err, c.want)
			}
		})
	}
}

// failingExport emits some records, then fails, as a store that loses
// its connection midway would.
func failingExport(ctx context.Context, emit func(blog.Record) error) (blog.Counts, error) {
	for _, r := range sample()[:4] {
		if err := emit(r); err != nil {
			return blog.Counts{}, err
		}
	}
	return blog.Counts{}, errors.New("connection lost")
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "blog.backup")
	if _, err := WriteFile(context.Background(), path, exportOf(sample()), Options{}); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "blog.backup")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stat %v, %v: want mode 0600", fi, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := readAll(t, data); err != nil || len(got) != len(sample()) {
		t.Fatalf("%d records, %v", len(got), err)
	}

	t.Run("FailsMidway", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "blog.backup")
		if _, err := WriteFile(context.Background(), path, failingExport, Options{}); err == nil || !strings.Contains(err.Error(), "connection lost") {
			t.Fatalf("err %v", err)
		}
		assertOnly(t, dir)
	})
	t.Run("CanceledMidway", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		export := func(ctx context.Context, emit func(blog.Record) error) (blog.Counts, error) {
			for i, r := range sample() {
				if i == 3 {
					cancel()
				}
				if err := emit(r); err != nil {
					return blog.Counts{}, err
				}
			}
			return blog.Counts{}, nil
		}
		if _, err := WriteFile(ctx, filepath.Join(dir, "b"), export, Options{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		assertOnly(t, dir)
	})
	t.Run("FailureKeepsTheOldFile", func(t *testing.T) {
		if _, err := WriteFile(context.Background(), path, failingExport, Options{}); err == nil {
			t.Fatal("no error")
		}
		after, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(after, data) {
			t.Fatalf("the earlier backup changed: %v", err)
		}
		assertOnly(t, dir, "blog.backup")
	})
}

// assertOnly fails unless dir holds exactly these names.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, de := range des {
		got = append(got, de.Name())
	}
	if len(got) != len(names) || (len(names) > 0 && !reflect.DeepEqual(got, names)) {
		t.Fatalf("directory holds %v, want %v", got, names)
	}
}

// rawHeader is a 512-byte ustar header, written by hand: archive/tar's
// writer makes no sparse entries, which a forged file may hold.
func rawHeader(name string, size int64, typeflag byte) []byte {
	h := make([]byte, 512)
	copy(h, name)
	copy(h[100:], "0000600\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], fmt.Sprintf("%011o\x00", size))
	copy(h[136:], "00000000000\x00")
	h[156] = typeflag
	copy(h[257:], "ustar\x0000")
	copy(h[148:], "        ")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

func padded(b []byte) []byte {
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}

// TestSparseRefused: a PAX sparse entry of a few hundred bytes claiming
// 512 MiB is refused before anything is spooled, where it would
// otherwise write 512 MiB of zeros to the temporary directory.
func TestSparseRefused(t *testing.T) {
	const size = 512 << 20
	var pax bytes.Buffer
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}, {"GNU.sparse.name", "posts.jsonl"},
		{"GNU.sparse.realsize", fmt.Sprint(size)}} {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec) + 2 // the length counts its own digits: two here
		fmt.Fprintf(&pax, "%d%s", n, rec)
	}
	// The sparse 1.0 map in the data: one block of 1 byte at the end.
	sparseMap := padded(fmt.Appendf(nil, "1\n%d\n1\n", size-1))
	var data []byte
	data = append(data, rawHeader("PaxHeaders/x", int64(pax.Len()), tar.TypeXHeader)...)
	data = append(data, padded(pax.Bytes())...)
	data = append(data, rawHeader("x", int64(len(sparseMap))+512, tar.TypeReg)...)
	data = append(data, sparseMap...)
	data = append(data, padded([]byte("\n"))...)
	data = append(data, make([]byte, 1024)...)
	// The forgery is one archive/tar reads as a 512 MiB file.
	tr := tar.NewReader(bytes.NewReader(data))
	h, err := tr.Next()
	if err != nil || h.Size != size {
		t.Fatalf("crafted entry: %v, size %d", err, h.Size)
	}
	dir := t.TempDir()
	b, err := Open(bytes.NewReader(data), nil, dir)
	if err == nil {
		_ = b.Close()
		t.Fatal("a sparse entry was accepted")
	}
	if !strings.Contains(err.Error(), "sparse") {
		t.Errorf("err %v, want one saying sparse", err)
	}
	// Beside it, an honest backup still opens.
	if _, _, err := readAll(t, writeSample(t, Options{})); err != nil {
		t.Fatalf("honest backup: %v", err)
	}
}

// TestSpoolBound: spooling stops once parts outgrow the bytes read,
// whatever the tar reader claims.
func TestSpoolBound(t *testing.T) {
	b := &Backup{read: &countingReader{n: 1000}}
	p := &boundedPart{b: b, r: bytes.NewReader(make([]byte, 4096))}
	if _, err := io.Copy(io.Discard, p); !errors.Is(err, errInflated) {
		t.Fatalf("4096 bytes spooled of 1000 read: err %v", err)
	}
	b = &Backup{read: &countingReader{n: 4096}}
	p = &boundedPart{b: b, r: bytes.NewReader(make([]byte, 4096))}
	if _, err := io.Copy(io.Discard, p); err != nil {
		t.Fatalf("4096 of 4096: %v", err)
	}
}

// TestLongLineRefused: a record's line longer than any valid record is
// refused with one line, not decoded into memory whole.
func TestLongLineRefused(t *testing.T) {
	es := entries(t, writeSample(t, Options{}))
	long := []byte(`{"id":"p3","authorId":"u1","title":"t","content":"` + strings.Repeat("x", maxLine) + `"}` + "\n")
	forged := append([]tarEntry{}, es...)
	forged[2] = tarEntry{"posts.jsonl", append(append([]byte{}, es[2].data...), long...), nil}
	forged = editManifest(t, forged, func(m *Manifest) {
		m.Parts[2] = Part{Name: "posts.jsonl", Records: 3, Bytes: int64(len(forged[2].data)), SHA256: sha(forged[2].data)}
	})
	_, _, err := readAll(t, build(t, forged))
	if err == nil || !strings.Contains(err.Error(), "record 3: longer than 16 MiB") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err %v, want one line saying record 3 is too long", err)
	}
}
