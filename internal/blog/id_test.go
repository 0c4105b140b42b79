package blog

import (
	"strings"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	const n = 10_000
	seen := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		id := NewID()
		if len(id) != 26 {
			t.Fatalf("NewID() = %q, length %d, want 26", id, len(id))
		}
		if !ValidID(id) {
			t.Fatalf("ValidID(NewID()) = false for %q", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q after %d IDs", id, i)
		}
		seen[id] = true
	}
}

// withLast returns id with its last character replaced by c.
func withLast(id string, c byte) string { return id[:len(id)-1] + string(c) }

func TestValidID(t *testing.T) {
	id := NewID()
	// The last character carries 3 data bits and 2 padding bits: only
	// characters whose alphabet index is a multiple of 4 are valid there.
	valid := withLast(id, 'a')
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"new ID", id, true},
		{"last char a", valid, true},
		{"last char e", withLast(id, 'e'), true},
		{"last char 4", withLast(id, '4'), true},
		{"all a", strings.Repeat("a", 26), true},
		{"empty", "", false},
		{"too short", valid[:25], false},
		{"too long", valid + "a", false},
		{"uppercase", strings.ToUpper(valid), false},
		{"one uppercase letter", "A" + valid[1:], false},
		{"padding bits set b", withLast(id, 'b'), false},
		{"padding bits set d", withLast(id, 'd'), false},
		{"padding bits set 7", withLast(id, '7'), false},
		{"digit 0 not in alphabet", "0" + valid[1:], false},
		{"digit 1 not in alphabet", "1" + valid[1:], false},
		{"digit 8 not in alphabet", "8" + valid[1:], false},
		{"base32 padding", valid[:24] + "==", false},
		{"quote", "'" + valid[1:], false},
		{"SQL injection", "' OR '1'='1' --aaaaaaaaaaa", false},
		{"semicolon", valid[:25] + ";", false},
		{"percent", valid[:25] + "%", false},
		{"underscore wildcard", valid[:25] + "_", false},
		{"space", valid[:25] + " ", false},
		{"NUL", valid[:25] + "\x00", false},
		{"slash", "../" + valid[3:], false},
		{"multibyte same byte length", "é" + valid[2:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidID(tt.in); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNow(t *testing.T) {
	now := Now()
	if now.Location() != time.UTC {
		t.Errorf("Now().Location() = %v, want UTC", now.Location())
	}
	if now.Nanosecond()%1000 != 0 {
		t.Errorf("Now() = %v has sub-microsecond precision", now)
	}
	if d := time.Since(now); d < 0 || d > time.Minute {
		t.Errorf("Now() is %v away from the clock", d)
	}
}
