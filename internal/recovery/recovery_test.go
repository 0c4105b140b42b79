package recovery

import (
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	codes, hashes := Generate("user-1")
	if len(codes) != Count || len(hashes) != Count {
		t.Fatalf("got %d codes and %d hashes, want %d", len(codes), len(hashes), Count)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 11 || c[5] != '-' {
			t.Errorf("code %q: want xxxxx-xxxxx", c)
		}
		if n, ok := Normalize(c); !ok || len(n) != codeLen {
			t.Errorf("code %q does not normalise", c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
		if strings.Contains(hashes[i], strings.ReplaceAll(c, "-", "")) || len(hashes[i]) != 64 {
			t.Errorf("hash %q: want 64 hex digits that do not contain the code", hashes[i])
		}
		if got := Match("user-1", c, hashes); got != i {
			t.Errorf("Match(code %d) = %d", i, got)
		}
	}
}

func TestMatch(t *testing.T) {
	codes, hashes := Generate("user-1")
	c := codes[3]
	for _, tc := range []struct {
		name, user, input string
		want              int
	}{
		{"AsShown", "user-1", c, 3},
		{"UpperCase", "user-1", strings.ToUpper(c), 3},
		{"NoDash", "user-1", strings.ReplaceAll(c, "-", ""), 3},
		{"SpacesAndDashes", "user-1", " " + c[:2] + " " + c[2:5] + " - " + c[6:] + " ", 3},
		{"OtherUser", "user-2", c, -1},
		{"OneCharWrong", "user-1", c[:10] + flipChar(c[10]), -1},
		{"TooShort", "user-1", c[:10], -1},
		{"TooLong", "user-1", c + "a", -1},
		{"OutsideAlphabet", "user-1", c[:10] + "0", -1},
		{"Empty", "user-1", "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Match(tc.user, tc.input, hashes); got != tc.want {
				t.Fatalf("Match(%q) = %d, want %d", tc.input, got, tc.want)
			}
		})
	}
	t.Run("SingleUse", func(t *testing.T) {
		// The caller removes a matched hash; the code then matches nothing.
		rest := append(append([]string{}, hashes[:3]...), hashes[4:]...)
		if got := Match("user-1", c, rest); got != -1 {
			t.Fatalf("a used code matched %d", got)
		}
	})
}

func flipChar(b byte) string {
	if b == 'a' {
		return "b"
	}
	return "a"
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ABCDE-FGH23", "abcdefgh23", true},
		{"abcde fgh23", "abcdefgh23", true},
		{"abcdefgh23", "abcdefgh23", true},
		{"abcde_fgh23", "", false},
		{"abcdé-fgh23", "", false},
		{"abcde-fgh2", "", false},
		{"abcde-fgh234", "", false},
		{"abcde-fgh18", "", false},
	} {
		got, ok := Normalize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
