package hardening_test

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/testcert"
)

// allowListPath lists the accepted exceptions to the rules below, one per
// line: "RULE PATH MATCH # why". MATCH is a substring of what the rule
// found (a Go string's value, a line). The file is under testdata, so the
// walk does not read it.
const allowListPath = "testdata/secrets-allowlist.txt"

// TestNoCommittedSecrets looks for secrets committed to the repository or
// compiled into the binary, and checks how development secrets are kept.
func TestNoCommittedSecrets(t *testing.T) {
	allow := loadAllowList(t)

	// The rules themselves, on samples written so that this file does
	// not match them.
	t.Run("rules", func(t *testing.T) {
		pem := "-----BEGIN " + "RSA PRIVATE KEY-----"
		aws := "AKIA" + "IOSFODNN7EXAMPLE"
		env := "PALISADE_JWT_SECRET" + "=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0"
		for _, c := range []struct {
			path, text string
			want       string // rule, or "" for none
		}{
			{"deploy/key.pem", pem + "\nMIIE…\n", "pem"},
			{"docs/setup.md", "an example: " + pem, "pem"},
			{"config.yaml", "aws_access_key_id: " + aws, "aws"},
			{".env.production", env + "\n", "env"},
			{"scripts/run", "export " + "PALISADE_SESSION_SECRET" + "='hunter2hunter2hunter2hunter2hunter2'", "env"},
			{"README.md", env, ""}, // documentation may show the form of a value
			{"scripts/run", "PALISADE_JWT_SECRET" + `="$(openssl rand -base64 48)"`, ""},
			{"scripts/run", "PALISADE_JWT_SECRET" + "=${PALISADE_JWT_SECRET:?}", ""},
			{"cmd/x/main.go", `env = append(env, "` + "PALISADE_JWT_SECRET" + `="+newSecret())`, ""},
		} {
			var got []string
			for _, f := range scanText(c.path, []byte(c.text)) {
				got = append(got, f.rule)
			}
			if (c.want == "" && len(got) > 0) || (c.want != "" && (len(got) != 1 || got[0] != c.want)) {
				t.Errorf("scanText(%s, %q) found %v, want %q", c.path, c.text, got, c.want)
			}
		}
		for _, c := range []struct {
			src  string
			want int
		}{
			{`const jwtSecret = "3f9a1c0e7b2d4a6f8e1c3b5d7a9f0e2c"`, 1},              // hex
			{`var apiKey = "sk_live_51HxQpRLk2Xz9vTqW8mN4bYc"`, 1},                   // base64-ish
			{`var c = Config{SessionSecret: "Q2hhbmdlTWVQbGVhc2VOb3dQbGVhc2U="}`, 1}, // a struct field
			{`var m = map[string]string{"token": "eyJhbGciOiJIUzI1NiJ9.e30.abc"}`, 1},
			{`func f(s string) bool { return s == "9c56cc51b374c3ba189210d5b6d4bf57" || token != "" }`, 0}, // s is no secret's name
			{`func f(token string) bool { return token == "9c56cc51b374c3ba189210d5b6d4bf57" }`, 1},
			{`const PasswordHint = "Use at least fifteen characters"`, 0}, // a sentence
			{`const tokenHeader = "Authorization"`, 0},                    // a word
			{`var secretFile = filepath.Join(dir, "jwt.secret")`, 0},      // not a literal assignment
			{`const secretEnv = "PALISADE_JWT"`, 0},                       // short, low entropy
		} {
			got := scanGo(t, "x.go", []byte("package x\n"+c.src+"\n"))
			if len(got) != c.want {
				t.Errorf("scanGo(%q) found %v, want %d finding(s)", c.src, got, c.want)
			}
		}
		// The binary's rule: a random key is found, words and text are not.
		key := "tG3k9Qz7Lw2Xv8Rb5Np1Ys6Hd4Jf0MaCe_Uo-Ti"
		certPEM, _ := testcert.Pair(t, 1)
		for _, c := range []struct {
			data string
			want int
		}{
			{"\x00" + key + "\x00", 1},
			{"\x00timeoutraw-controlhttp-serverhttp2serverhttp2clientEND_HEADERS\x00", 0},
			{"\x00h1:" + "xa05mVpwTBm1iLeTMNFfAWpKUm4fXAW7CeAViqBVS90=\x00", 0},
			{"\x00MTcwNDA2NzIwMDEyMzQ1Ni43eHl5cXNsM2Z6MnVqdmI2Z21ranFwenNiYQ\x00", 0},          // base64 of a cursor
			{"\x00" + string(certPEM) + "\x00", 0},                                             // a certificate is public
			{"\x00-----BEGIN CERTIFICATE-----\n" + key + "\n-----END CERTIFICATE-----\x00", 1}, // a key under a false label is not
		} {
			if got := secretShaped([]byte(c.data)); len(got) != c.want {
				t.Errorf("secretShaped(%q) = %q, want %d", c.data, got, c.want)
			}
		}
	})

	t.Run("tree", func(t *testing.T) {
		root := repoRoot(t)
		files := gitFiles(t, root)
		scanned := 0
		for _, rel := range files {
			if skipForSecrets(rel) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(root, rel))
			if errors.Is(err, os.ErrNotExist) {
				continue // deleted in the work tree
			}
			if err != nil {
				t.Fatal(err)
			}
			if bytes.IndexByte(data, 0) >= 0 {
				continue // binary
			}
			scanned++
			for _, f := range scanText(rel, data) {
				if !allow.allows(f) {
					t.Errorf("%s", f)
				}
			}
			if strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") {
				for _, f := range scanGo(t, rel, data) {
					if !allow.allows(f) {
						t.Errorf("%s", f)
					}
				}
			}
		}
		if scanned < 50 {
			t.Fatalf("only %d files scanned: is this the repository?", scanned)
		}
		t.Logf("%d files tracked or about to be, %d scanned", len(files), scanned)
		allow.unused(t)
	})

	if testing.Short() {
		t.Skip("the binary checks build and run palisade; skipped with -short")
	}
	bin := buildPalisade(t)

	t.Run("binary", func(t *testing.T) {
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		// The tests' fixed secret is for tests only.
		if bytes.Contains(data, []byte(apptest.Secret)) {
			t.Errorf("the binary contains apptest.Secret")
		}
		// Anything shaped like a generated secret: 32 or more characters
		// of base64 (either alphabet) or hex, random-looking. The binary's
		// own build ID is random-looking by design.
		out, err := exec.Command("go", "tool", "buildid", bin).Output()
		if err != nil {
			t.Fatalf("go tool buildid: %v", err)
		}
		buildID := strings.TrimSpace(string(out))
		n := 0
		for _, s := range secretShaped(data) {
			if strings.Contains(buildID, s) {
				continue
			}
			f := finding{rule: "binary", path: "cmd/palisade", match: s, msg: "a random-looking string of " + strconv.Itoa(len(s)) + " characters is compiled in: a default secret?"}
			if !allow.allows(f) {
				t.Errorf("%s", f)
			}
			n++
		}
		t.Logf("%d MB binary, %d secret-shaped strings, all on the allow-list", len(data)>>20, n)
	})

	t.Run("development secrets", func(t *testing.T) {
		// Generated at the first start, 0600, and different for every data
		// directory: there is no default.
		dirs := []string{t.TempDir(), t.TempDir()}
		secrets := map[string]string{}
		for _, dir := range dirs {
			p, err := startPalisade(t, bin, map[string]string{"PALISADE_DATA_DIR": dir, "PALISADE_ADDR": apptest.FreeAddr(t)}, "serve")
			if err != nil {
				t.Fatal(err)
			}
			p.kill()
			for _, name := range []string{"jwt.secret", "session.secret", "2fa.key"} {
				path := filepath.Join(dir, name)
				info, err := os.Stat(path)
				if err != nil {
					t.Fatalf("development start made no %s: %v", name, err)
				}
				if info.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", path, info.Mode().Perm())
				}
				b, _ := os.ReadFile(path)
				s := strings.TrimSpace(string(b))
				if len(s) < 32 {
					t.Errorf("%s holds %d characters, want at least 32", path, len(s))
				}
				if other, ok := secrets[s]; ok {
					t.Errorf("%s and %s hold the same secret: it is not generated", path, other)
				}
				secrets[s] = path
				if bytes.Contains(mustRead(t, bin), []byte(s)) {
					t.Errorf("the generated %s is in the binary", name)
				}
			}
		}

		// A secret file others can read stops the next start, and the
		// error names the file.
		for _, name := range []string{"jwt.secret", "session.secret", "2fa.key"} {
			dir := t.TempDir()
			env := map[string]string{"PALISADE_DATA_DIR": dir, "PALISADE_ADDR": apptest.FreeAddr(t)}
			p, err := startPalisade(t, bin, env, "serve")
			if err != nil {
				t.Fatal(err)
			}
			p.kill()
			path := filepath.Join(dir, name)
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			stderr, err := runPalisade(t, bin, env, 20*time.Second, "serve")
			if err == nil || strings.Contains(err.Error(), "still running") {
				t.Errorf("palisade serve with %s at 0644: %v, want it to refuse to start\n%s", name, err, stderr)
				continue
			}
			if !strings.Contains(stderr, path) {
				t.Errorf("palisade serve refused %s at 0644 without naming it:\n%s", name, stderr)
			}
		}
	})
}

// ---- rules over the tree ------------------------------------------------

type finding struct {
	rule, path string
	line       int
	match      string
	msg        string
}

func (f finding) String() string {
	loc := f.path
	if f.line > 0 {
		loc += ":" + strconv.Itoa(f.line)
	}
	return fmt.Sprintf("%s: [%s] %s: %s", loc, f.rule, f.msg, quote(f.match))
}

// skipForSecrets: test fixtures and the list of common passwords (which
// is made of password-looking strings by definition).
func skipForSecrets(rel string) bool {
	return strings.Contains("/"+rel, "/testdata/") ||
		strings.HasPrefix(filepath.Base(rel), "commonpasswords.")
}

var (
	pemPrivateKey = regexp.MustCompile(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----`)
	awsAccessKey  = regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)
	// A secret variable given a value in the text itself: unquoted, or in
	// quotes. A value that starts with $ is a shell expansion, and one
	// that the line's own quoting ends at once ("…SECRET="+f()) is code.
	secretAssignment = regexp.MustCompile(`PALISADE_(?:JWT|SESSION)_SECRET\s*=\s*(?:"([^"\s]*)"|'([^'\s]*)'|([^\s"'$<{%;,)\x60]+))`)
)

func scanText(rel string, data []byte) []finding {
	var out []finding
	doc := strings.HasSuffix(rel, ".md")
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := pemPrivateKey.FindString(line); m != "" {
			out = append(out, finding{rule: "pem", path: rel, line: n, match: m, msg: "a PEM private key"})
		}
		if m := awsAccessKey.FindString(line); m != "" {
			out = append(out, finding{rule: "aws", path: rel, line: n, match: m, msg: "an AWS access key ID"})
		}
		if doc {
			continue
		}
		for _, m := range secretAssignment.FindAllStringSubmatch(line, -1) {
			v := m[1] + m[2] + m[3]
			if v != "" && !strings.HasPrefix(v, "$") {
				out = append(out, finding{rule: "env", path: rel, line: n, match: m[0], msg: "a secret's value written out"})
			}
		}
	}
	return out
}

// secretName: an identifier, field or key that names a credential.
var secretName = regexp.MustCompile(`(?i)secret|passw(or)?d|passphrase|token|api_?key|credential|private_?key`)

// scanGo finds string constants assigned to a secret-named thing (a
// variable, constant, struct field or map key) that look random: a
// committed credential. Words, sentences, names of environment variables
// and header names are not random.
func scanGo(t *testing.T, rel string, data []byte) []finding {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, rel, data, parser.SkipObjectResolution)
	if err != nil {
		t.Errorf("%s: %v", rel, err)
		return nil
	}
	var out []finding
	check := func(name string, value ast.Expr) {
		lit, ok := value.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING || !secretName.MatchString(name) {
			return
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil || !randomLooking(s) {
			return
		}
		out = append(out, finding{rule: "go", path: rel, line: fset.Position(lit.Pos()).Line, match: s,
			msg: fmt.Sprintf("%s is given a random-looking string (%.1f bits a character)", name, entropy(s))})
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if i < len(n.Values) {
					check(id.Name, n.Values[i])
				}
			}
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				if i < len(n.Rhs) {
					check(exprName(lhs), n.Rhs[i])
				}
			}
		case *ast.KeyValueExpr:
			check(exprName(n.Key), n.Value)
		case *ast.BinaryExpr: // secret == "…", token != "…"
			if n.Op == token.EQL || n.Op == token.NEQ {
				check(exprName(n.X), n.Y)
				check(exprName(n.Y), n.X)
			}
		}
		return true
	})
	return out
}

func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.IndexExpr:
		return exprName(e.X)
	case *ast.BasicLit:
		s, _ := strconv.Unquote(e.Value)
		return s
	}
	return ""
}

// randomLooking: at least 16 characters, no white space, and at least 3
// bits of entropy a character (random hex has about 3.8 at 32 characters,
// random base64 above 4.5). Words joined by hyphens reach that too
// ("palisade-bench-load-test-password" has 3.8), and no rule this simple
// tells them from a key: those go on the allow-list, each with its reason.
// A sentence (with spaces) and a short word (an environment variable's
// name, "Bearer") are never flagged.
func randomLooking(s string) bool {
	if len(s) < 16 || strings.ContainsAny(s, " \t\n") {
		return false
	}
	return entropy(s) >= 3.0
}

// entropy is the Shannon entropy of s in bits a character.
func entropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(len(s))
			h -= p * math.Log2(p)
		}
	}
	return h
}

// charClasses counts which of lower case, upper case and digits s mixes.
func charClasses(s string) int {
	var lower, upper, digit int
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			lower = 1
		case c >= 'A' && c <= 'Z':
			upper = 1
		case c >= '0' && c <= '9':
			digit = 1
		}
	}
	return lower + upper + digit
}

// ---- the binary ----------------------------------------------------------

// base64Runs returns the [start, end) of every maximal run of at least
// min characters of base64 (either alphabet), with up to two "=" of
// padding. (A loop, not a regexp: the binary is tens of megabytes, and
// the tests run under -race.)
func base64Runs(data []byte, min int) [][2]int {
	var table [256]bool
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-") {
		table[c] = true
	}
	var out [][2]int
	for i := 0; i < len(data); {
		if !table[data[i]] {
			i++
			continue
		}
		j := i
		for j < len(data) && table[data[j]] {
			j++
		}
		if j-i >= min {
			end := j
			for k := 0; k < 2 && end < len(data) && data[end] == '='; k++ {
				end++
			}
			out = append(out, [2]int{i, end})
		}
		i = j
	}
	return out
}

// secretShaped returns the runs of 32 to 128 base64 (either alphabet) or
// hex characters in data that look random. A Go binary is full of runs of
// that alphabet: its string table is identifiers and protocol words laid
// end to end ("timeoutraw-controlhttp-server…"), and its build info holds
// each module's go.sum hash ("h1:…="). Words give themselves away by long
// runs of letters of one case, which random base64 seldom has (7 lower
// case in a row: about 4% of 44-character secrets), and the hashes by
// their prefix.
func secretShaped(data []byte) []string {
	seen := map[string]bool{}
	var out []string
	certs := certificateSpans(data)
	for _, loc := range base64Runs(data, 32) {
		s := string(data[loc[0]:loc[1]])
		if seen[s] || len(s) > 128 {
			continue
		}
		if within(loc, certs) {
			continue // a public certificate (a library's trust anchor), which is no secret
		}
		seen[s] = true
		if loc[0] >= 3 && string(data[loc[0]-3:loc[0]]) == "h1:" {
			continue // a module's hash in the build info
		}
		if strings.Contains(s, "ABCDEFGHIJ") || strings.Contains(s, "abcdefghij") || strings.Contains(s, "0123456789") {
			continue // an alphabet
		}
		if entropy(s) < 4.5 || charClasses(s) < 3 || longestRun(s, 'a', 'z') >= 7 || longestRun(s, 'A', 'Z') >= 7 {
			continue
		}
		if encodedText(s) {
			continue // base64 of readable text (an example cursor), not a key
		}
		out = append(out, s)
	}
	return out
}

// certificateSpans returns where data holds PEM blocks that parse as X.509
// certificates: public by nature (go-webauthn compiles in the roots that
// attestation statements chain to). A block labelled CERTIFICATE that is
// not one (a key under a false label) is not exempt.
func certificateSpans(data []byte) [][2]int {
	const begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
	var spans [][2]int
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(begin))
		if i < 0 {
			return spans
		}
		start := off + i
		j := bytes.Index(data[start:], []byte(end))
		if j < 0 {
			return spans
		}
		stop := start + j + len(end)
		if block, _ := pem.Decode(data[start:stop]); block != nil {
			if _, err := x509.ParseCertificate(block.Bytes); err == nil {
				spans = append(spans, [2]int{start, stop})
			}
		}
		off = start + len(begin)
	}
}

// within reports whether loc lies inside one of spans.
func within(loc [2]int, spans [][2]int) bool {
	for _, sp := range spans {
		if loc[0] >= sp[0] && loc[1] <= sp[1] {
			return true
		}
	}
	return false
}

// encodedText reports whether s is the base64 (either alphabet, padded or
// not) of printable ASCII: a random key decodes to bytes that are not.
func encodedText(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil || len(b) == 0 {
			continue
		}
		printable := true
		for _, c := range b {
			if c < 0x20 || c > 0x7e {
				printable = false
				break
			}
		}
		if printable {
			return true
		}
	}
	return false
}

// longestRun is the length of the longest run of characters of s in
// [lo, hi].
func longestRun(s string, lo, hi byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] >= lo && s[i] <= hi {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// ---- allow-list ------------------------------------------------------------

type allowEntry struct {
	rule, path, match, why string
	line                   int
	used                   bool
}

type allowList struct{ entries []*allowEntry }

func loadAllowList(t *testing.T) *allowList {
	t.Helper()
	data, err := os.ReadFile(allowListPath)
	if err != nil {
		t.Fatal(err)
	}
	var l allowList
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		entry, why, _ := strings.Cut(line, " # ")
		parts := strings.SplitN(strings.TrimSpace(entry), " ", 3)
		if len(parts) != 3 || strings.TrimSpace(why) == "" {
			t.Fatalf("%s:%d: want \"RULE PATH MATCH # why\", got %q", allowListPath, n+1, line)
		}
		l.entries = append(l.entries, &allowEntry{rule: parts[0], path: parts[1], match: parts[2], why: why, line: n + 1})
	}
	return &l
}

func (l *allowList) allows(f finding) bool {
	for _, e := range l.entries {
		if e.rule == f.rule && e.path == f.path && strings.Contains(f.match, e.match) {
			e.used = true
			return true
		}
	}
	return false
}

// unused reports entries of the tree's rules that matched nothing: the
// exception is gone and its line should go too.
func (l *allowList) unused(t *testing.T) {
	for _, e := range l.entries {
		if !e.used && e.rule != "binary" {
			t.Errorf("%s:%d: %s %s %q matched nothing: remove it", allowListPath, e.line, e.rule, e.path, e.match)
		}
	}
}

// ---- the repository ------------------------------------------------------

func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git work tree (git rev-parse: %v)", err)
	}
	return strings.TrimSpace(string(out))
}

// gitFiles lists the files git tracks, and the untracked ones it does not
// ignore (about to be committed).
func gitFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	seen := map[string]bool{}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" && !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	return files
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
