package auth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strings"
	"sync"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// commonPasswordsGz is the password list from the npm package
// @zxcvbn-ts/language-common 4.1.3 (MIT; see commonpasswords.LICENSE.txt),
// lowercased, one per line. It is kept compressed (about 200 KB instead of
// about 390 KB) and only expanded when first needed.
//
//go:embed commonpasswords.txt.gz
var commonPasswordsGz []byte

// commonPasswords expands the list once, on first use, so that binaries and
// tests that never check a password don't pay for the map.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		// The file is compiled in; if it is corrupt the build is broken.
		panic("auth: embedded common password list: " + err.Error())
	}
	set := make(map[string]struct{}, 50000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if k := commonKey(sc.Text()); k != "" {
			set[k] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		panic("auth: embedded common password list: " + err.Error())
	}
	return set
})

// commonKey is the form in which list entries and candidates are compared.
// NFKC then Unicode case folding makes "Ｐａｓｓｗｏｒｄ" (full-width) or
// "PASSWORD" count as "password": variants that fool a byte comparison but
// not a guessing attacker.
func commonKey(s string) string {
	// A Caser is stateful and not safe for concurrent use, so make one per call.
	return cases.Fold().String(norm.NFKC.String(strings.TrimSpace(s)))
}

// IsCommonPassword reports whether pw (compared case-insensitively, after
// trimming) is on the embedded list of common passwords (source:
// @zxcvbn-ts/language-common 4.1.3, MIT).
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[commonKey(pw)]
	return ok
}

// CommonPasswordCount returns how many distinct passwords the list holds.
func CommonPasswordCount() int {
	return len(commonPasswords())
}
