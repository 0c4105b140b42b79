package blog

import (
	"strings"
	"testing"
)

const goodPassword = "correct horse battery staple"

// varied returns n characters cycling through alphabet, so that a password
// of any length is neither repetitive nor contains a test username.
func varied(n int, alphabet string) string {
	letters := []rune(alphabet)
	out := make([]rune, n)
	for i := range out {
		out[i] = letters[i%len(letters)]
	}
	return string(out)
}

const (
	ascii = "qwxyz0123456789QWXYZ!#%"
	greek = "αβγδεζηθικλμνξοπρστυφχψω"
	cjk   = "日本語中文字漢東西南北春夏秋冬"
)

func TestValidUsername(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"letters", "alice", true},
		{"mixed case digits underscore", "Alice_42", true},
		{"three characters", "abc", true},
		{"thirty-two characters", strings.Repeat("a", 32), true},
		{"two characters", "ab", false},
		{"thirty-three characters", strings.Repeat("a", 33), false},
		{"empty", "", false},
		{"space", "al ice", false},
		{"hyphen", "al-ice", false},
		{"dot", "al.ice", false},
		{"at sign", "alice@example", false},
		{"non-ASCII letter", "alicé", false},
		{"cyrillic look-alike", "аlice", false},
		{"SQL metacharacters", "a'; DROP TABLE users;--", false},
		{"NUL", "ali\x00ce", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidUsername(tt.in); got != tt.want {
				t.Errorf("ValidUsername(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestUsernameKey(t *testing.T) {
	if got := UsernameKey("Alice_42"); got != "alice_42" {
		t.Errorf("UsernameKey = %q, want %q", got, "alice_42")
	}
}

func TestRegistrationClean(t *testing.T) {
	const (
		usernameMsg = "Username must be 3 to 32 letters, digits or underscores"
		shortMsg    = "Password too short: use at least 15 characters"
		longMsg     = "Password too long: use at most 128 characters"
		commonMsg   = "Password is too common: choose another"
		containsMsg = "Password must not contain the username"
	)
	const commonPassword = "passwordpassword123"
	isCommon := func(p string) bool { return p == commonPassword }

	tests := []struct {
		name         string
		in           Registration
		isCommon     func(string) bool
		wantUsername string
		wantErr      [][2]string
	}{
		{
			name:         "valid",
			in:           Registration{Username: "alice", Password: goodPassword},
			isCommon:     isCommon,
			wantUsername: "alice",
		},
		{
			name:         "username trimmed",
			in:           Registration{Username: "  alice\t\n", Password: goodPassword},
			isCommon:     isCommon,
			wantUsername: "alice",
		},
		{
			name:         "username too short",
			in:           Registration{Username: "al", Password: goodPassword},
			isCommon:     isCommon,
			wantUsername: "al",
			wantErr:      [][2]string{{"username", usernameMsg}},
		},
		{
			name:         "username too long",
			in:           Registration{Username: strings.Repeat("a", 33), Password: goodPassword},
			isCommon:     isCommon,
			wantUsername: strings.Repeat("a", 33),
			wantErr:      [][2]string{{"username", usernameMsg}},
		},
		{
			name:         "username with bad characters",
			in:           Registration{Username: "<alice>", Password: goodPassword},
			isCommon:     isCommon,
			wantUsername: "<alice>",
			wantErr:      [][2]string{{"username", usernameMsg}},
		},
		{
			name:         "password of 14 characters too short",
			in:           Registration{Username: "alice", Password: varied(14, ascii)},
			isCommon:     isCommon,
			wantUsername: "alice",
			wantErr:      [][2]string{{"password", shortMsg}},
		},
		{
			name:         "password of 15 characters is enough",
			in:           Registration{Username: "alice", Password: varied(15, ascii)},
			isCommon:     isCommon,
			wantUsername: "alice",
		},
		{
			name:         "password length counted in characters not bytes",
			in:           Registration{Username: "alice", Password: varied(14, greek)},
			isCommon:     isCommon,
			wantUsername: "alice",
			wantErr:      [][2]string{{"password", shortMsg}},
		},
		{
			name:         "fifteen multibyte characters is enough",
			in:           Registration{Username: "alice", Password: varied(15, "🔑🗝🔒🔓🔐")},
			isCommon:     isCommon,
			wantUsername: "alice",
		},
		{
			name:         "password of 128 characters is allowed",
			in:           Registration{Username: "alice", Password: varied(128, cjk)},
			isCommon:     isCommon,
			wantUsername: "alice",
		},
		{
			name:         "password of 129 characters too long",
			in:           Registration{Username: "alice", Password: varied(129, ascii)},
			isCommon:     isCommon,
			wantUsername: "alice",
			wantErr:      [][2]string{{"password", longMsg}},
		},
		{
			name:         "password not trimmed",
			in:           Registration{Username: "alice", Password: "  " + varied(13, ascii)},
			isCommon:     isCommon,
			wantUsername: "alice",
		},
		{
			name:         "common password refused",
			in:           Registration{Username: "alice", Password: commonPassword},
			isCommon:     isCommon,
			wantUsername: "alice",
			wantErr:      [][2]string{{"password", commonMsg}},
		},
		{
			name:         "common password padded to length refused",
			in:           Registration{Username: "alice", Password: "!!password1234567!"},
			isCommon:     func(p string) bool { return p == "password" },
			wantUsername: "alice",
			wantErr:      [][2]string{{"password", commonMsg}},
		},
		{
			name:         "repetitive password refused",
			in:           Registration{Username: "alice", Password: strings.Repeat("ab", 10)},
			isCommon:     isCommon,
			wantUsername: "alice",
			wantErr:      [][2]string{{"password", "Password is too repetitive: choose another"}},
		},
		{
			name:         "nil isCommon accepts",
			in:           Registration{Username: "alice", Password: commonPassword},
			isCommon:     nil,
			wantUsername: "alice",
		},
		{
			name:         "password containing username refused",
			in:           Registration{Username: "alice", Password: "my name is alice ok"},
			isCommon:     isCommon,
			wantUsername: "alice",
			wantErr:      [][2]string{{"password", containsMsg}},
		},
		{
			name:         "password containing username in other case refused",
			in:           Registration{Username: "Alice", Password: "my name is ALICE ok"},
			isCommon:     isCommon,
			wantUsername: "Alice",
			wantErr:      [][2]string{{"password", containsMsg}},
		},
		{
			name:         "both fields invalid",
			in:           Registration{Username: "a b", Password: "x7Q!"},
			isCommon:     isCommon,
			wantUsername: "a b",
			wantErr:      [][2]string{{"username", usernameMsg}, {"password", shortMsg}},
		},
		{
			// An empty username is invalid; the password does not "contain"
			// it in any meaningful sense and must not get a second error.
			name:         "empty username reports only the username",
			in:           Registration{Username: "", Password: goodPassword},
			isCommon:     isCommon,
			wantUsername: "",
			wantErr:      [][2]string{{"username", usernameMsg}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.in
			password := r.Password
			err := r.Clean(tt.isCommon)
			wantFields(t, err, tt.wantErr...)
			if r.Username != tt.wantUsername {
				t.Errorf("Username = %q, want %q", r.Username, tt.wantUsername)
			}
			if r.Password != password {
				t.Errorf("Password changed from %q to %q", password, r.Password)
			}
			if err != nil && password != "" && strings.Contains(err.Error(), password) {
				t.Errorf("Error() %q contains the password", err.Error())
			}
		})
	}
}

func TestRegistrationCleanPassesPasswordToIsCommon(t *testing.T) {
	var got string
	r := Registration{Username: "alice", Password: goodPassword}
	if err := r.Clean(func(p string) bool { got = p; return false }); err != nil {
		t.Fatalf("Clean: %v", err)
	}
	if got != goodPassword {
		t.Errorf("isCommon got %q, want %q", got, goodPassword)
	}
}

func TestRegistrationErrorNeverContainsPassword(t *testing.T) {
	passwords := []string{
		"hunter2",                      // too short
		strings.Repeat("secret!", 20),  // too long
		"correcthorsebatterystaple",    // common (below)
		"my-name-is-bob-and-i-like-it", // contains username
	}
	for _, pw := range passwords {
		t.Run(pw[:min(len(pw), 12)], func(t *testing.T) {
			r := Registration{Username: "bob", Password: pw}
			err := r.Clean(func(p string) bool { return p == "correcthorsebatterystaple" })
			if err == nil {
				t.Fatal("Clean accepted the password")
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("Error() %q contains the password", err.Error())
			}
			for _, f := range fieldErrors(t, err) {
				if strings.Contains(f.Msg, pw) || strings.Contains(f.Path, pw) {
					t.Errorf("field %+v contains the password", f)
				}
			}
		})
	}
}

func TestRoleValid(t *testing.T) {
	tests := []struct {
		role Role
		want bool
	}{
		{RoleAuthor, true},
		{RoleAdmin, true},
		{"", false},
		{"Admin", false},
		{"root", false},
		{"user", false}, // the name authors had before
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			if got := tt.role.Valid(); got != tt.want {
				t.Errorf("Role(%q).Valid() = %v, want %v", tt.role, got, tt.want)
			}
		})
	}
}

func TestUserCanEdit(t *testing.T) {
	author := User{ID: NewID(), Username: "author", Role: RoleAuthor}
	other := User{ID: NewID(), Username: "other", Role: RoleAuthor}
	admin := User{ID: NewID(), Username: "admin", Role: RoleAdmin}
	noRole := User{ID: NewID(), Username: "norole"}
	post := Post{ID: NewID(), Author: Author{ID: author.ID, Username: author.Username}}

	tests := []struct {
		name string
		user User
		post Post
		want bool
	}{
		{"author", author, post, true},
		{"other user", other, post, false},
		{"admin", admin, post, true},
		{"user without role", noRole, post, false},
		{"same username different ID", User{ID: NewID(), Username: "author", Role: RoleAuthor}, post, false},
		// Defence in depth: a zero User (not signed in, or not loaded) must
		// not match a post whose author was not loaded either.
		{"zero user on post without author", User{}, Post{ID: post.ID}, false},
		{"disabled author", User{ID: author.ID, Username: "author", Role: RoleAuthor, Disabled: true}, post, false},
		{"disabled admin", User{ID: admin.ID, Username: "admin", Role: RoleAdmin, Disabled: true}, post, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.user.CanEdit(tt.post); got != tt.want {
				t.Errorf("CanEdit = %v, want %v", got, tt.want)
			}
			// CheckCanEdit is the same rule as an error.
			if err := CheckCanEdit(tt.user, tt.post); (err == nil) != tt.want || (err != nil && err != ErrNotYourPost) {
				t.Errorf("CheckCanEdit = %v, want nil: %v", err, tt.want)
			}
		})
	}
}

func TestUsernameSkeleton(t *testing.T) {
	lookAlikes := [][2]string{
		{"alice", "aIice"},      // capital i for l
		{"alice", "AIice"},      // and with another first letter case
		{"Alice", "aIice"},      // names are case-insensitive
		{"paypal", "paypa1"},    // digit one for l
		{"bob", "b0b"},          // digit zero for o
		{"BOB", "b0b"},          // zero for capital O
		{"mallory", "rnallory"}, // r n for m
		{"Mary", "rnary"},
		{"william", "wiIIiam"},
		{"alice", "ALICE"}, // same key, so the same account anyway
	}
	for _, p := range lookAlikes {
		if a, b := UsernameSkeleton(p[0]), UsernameSkeleton(p[1]); a != b && UsernameKey(p[0]) != UsernameKey(p[1]) {
			t.Errorf("%q (%q) and %q (%q) should be refused as look-alikes", p[0], a, p[1], b)
		}
	}
	distinct := [][2]string{
		{"alice", "alicia"},
		{"bob", "rob"},
		{"al1ce", "alice"}, // 1 looks like l, not i
		{"dave", "eve"},
		{"user_1", "user_2"},
	}
	for _, p := range distinct {
		if UsernameSkeleton(p[0]) == UsernameSkeleton(p[1]) {
			t.Errorf("%q and %q share the skeleton %q", p[0], p[1], UsernameSkeleton(p[0]))
		}
	}
	// Every valid username's skeleton is short and ASCII, fit for an
	// indexed column.
	for _, name := range []string{"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm", "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM"} {
		if s := UsernameSkeleton(name); len(s) != 64 {
			t.Errorf("skeleton of %q is %d bytes", name, len(s))
		}
	}
}
