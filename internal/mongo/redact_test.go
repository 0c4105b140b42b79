package mongo

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/palisade-blog/palisade/internal/blog"
)

func TestRedactHidesCredentials(t *testing.T) {
	const url = "mongodb://palisade:s%40cret-pw@db1:27017,db2:27017/blog?authSource=admin"
	cs, err := connstring.ParseAndValidate(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []error{
		fmt.Errorf("%w: auth failed for s@cret-pw", blog.ErrStoreUnavailable),
		errors.New("cannot dial mongodb://palisade:s%40cret-pw@db1:27017"),
	} {
		err := redact(leak, url, cs)
		if strings.Contains(err.Error(), "s@cret-pw") || strings.Contains(err.Error(), "s%40cret-pw") {
			t.Fatalf("redacted error still has the password: %v", err)
		}
		if blog.ErrorCode(err) != blog.ErrorCode(leak) {
			t.Fatalf("code %q became %q", blog.ErrorCode(leak), blog.ErrorCode(err))
		}
	}
	clean := errors.New("server selection error")
	if redact(clean, url, cs) != clean {
		t.Fatal("an error without secrets was rewritten")
	}
}

func TestUnavailableLeavesOtherErrors(t *testing.T) {
	if code := blog.ErrorCode(unavailable(errors.New("boom"))); code != blog.EINTERNAL {
		t.Fatalf("plain error became %q", code)
	}
	nf := blog.Errorf(blog.ENOTFOUND, "x")
	if unavailable(nf) != error(nf) {
		t.Fatal("a domain error was rewrapped")
	}
}
