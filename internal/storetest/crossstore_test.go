package storetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/mongo"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/postgres/pgtest"
	"github.com/palisade-blog/palisade/internal/sqlite"
	"github.com/palisade-blog/palisade/internal/storetest"
)

// kind is a store this test can open: SQLite always, the others when
// their test server's URL is set.
type kind struct {
	name string
	open storetest.Opener
}

func kinds() []kind {
	ks := []kind{{"SQLite", func(t *testing.T) blog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "palisade.db"))
		return opened(t, s, err)
	}}}
	if os.Getenv("PALISADE_TEST_POSTGRES_URL") != "" {
		ks = append(ks, kind{"PostgreSQL", func(t *testing.T) blog.Store {
			s, err := postgres.Open(context.Background(), pgtest.Schema(t))
			return opened(t, s, err)
		}})
	}
	if os.Getenv(mongotest.EnvURL) != "" {
		ks = append(ks, kind{"MongoDB", func(t *testing.T) blog.Store {
			s, err := mongo.Open(context.Background(), mongotest.Database(t))
			return opened(t, s, err)
		}})
	}
	return ks
}

func opened[S blog.Store](t *testing.T, s S, err error) blog.Store {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestRestoreAcrossStores takes a backup of each store and restores it
// into each other kind: every record comes back the same, and the
// restored store signs in, lists, refuses look-alikes, redeems invites,
// keeps two-factor state and finds passkeys as the original did.
func TestRestoreAcrossStores(t *testing.T) {
	ks := kinds()
	if len(ks) < 2 {
		t.Skip("one store kind available: set PALISADE_TEST_POSTGRES_URL or " + mongotest.EnvURL)
	}
	for _, from := range ks {
		for _, to := range ks {
			if from.name == to.name {
				continue // the contract suite restores into the same kind
			}
			t.Run(from.name+"To"+to.name, func(t *testing.T) {
				src := from.open(t)
				fx := storetest.Populate(t, src)
				storetest.Restore(t, src, to.open(t), fx)
			})
		}
	}
}

// TestRestoreChain carries one blog through every kind in turn and back:
// nothing is lost or changed on the way.
func TestRestoreChain(t *testing.T) {
	ks := kinds()
	if len(ks) < 2 {
		t.Skip("one store kind available: set PALISADE_TEST_POSTGRES_URL or " + mongotest.EnvURL)
	}
	first := ks[0].open(t)
	storetest.Populate(t, first)
	_, want := storetest.ExportAll(t, first)
	prev := first
	for _, k := range append(ks[1:], ks[0]) {
		next := k.open(t)
		records, _ := storetest.ExportAll(t, prev)
		if _, err := next.Import(context.Background(), storetest.Records(records, nil)); err != nil {
			t.Fatalf("import into %s: %v", k.name, err)
		}
		_, got := storetest.ExportAll(t, next)
		storetest.SameRecords(t, got, want)
		prev = next
	}
}

// handMade is a backup no store wrote: records that tie on their
// creation time, with IDs whose order differs between byte order and a
// language's collation (credential IDs are base64url: '-', upper case,
// '_', lower case), and more posts than one insert batch holds. Records
// are in Export's order: ties by ID compared byte by byte.
func handMade(posts int) []blog.Record {
	at := time.Date(2026, 5, 4, 3, 2, 1, 123456000, time.UTC)
	author := blog.UserRecord{ID: blog.NewID(), Username: "Ties", PasswordHash: "hash-of-Ties", Role: blog.RoleAdmin, CreatedAt: at}
	records := []blog.Record{{Settings: &blog.Settings{Title: "Hand made"}}, {User: &author}}
	ids := make([]string, posts)
	for i := range ids {
		ids[i] = blog.NewID()
	}
	slices.Sort(ids)
	for i, id := range ids {
		created := at.Add(time.Duration(i/3) * time.Microsecond) // three posts a tick
		records = append(records, blog.Record{Post: &blog.PostRecord{
			ID: id, AuthorID: author.ID, Title: fmt.Sprintf("Post %d", i), Content: "body", ContentHTML: "<p>body</p>",
			Status: blog.StatusPublished, CreatedAt: created, UpdatedAt: created, PublishedAt: &created,
		}})
	}
	for _, id := range []string{"-dash", "Apple", "_under", "apple"} {
		records = append(records, blog.Record{Passkey: &blog.Passkey{
			ID: id, UserID: author.ID, Name: id, PublicKey: []byte{1, 2, 3}, AttestationType: "none", CreatedAt: at,
		}})
	}
	return records
}

// TestImportHandMade restores the same hand-made backup into every kind:
// each exports exactly what it was given, ties and all, and a restore
// that fails after several batches leaves each empty.
func TestImportHandMade(t *testing.T) {
	records := handMade(1201)
	var want []string
	for _, r := range records {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, string(b))
	}
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			s := k.open(t)
			if _, err := s.Import(context.Background(), storetest.Records(records, nil)); err != nil {
				t.Fatal(err)
			}
			_, got := storetest.ExportAll(t, s)
			storetest.SameRecords(t, got, want)
		})
		t.Run(k.name+"FailsLate", func(t *testing.T) {
			s := k.open(t)
			cut := errors.New("cut short")
			if _, err := s.Import(context.Background(), storetest.Records(records, cut)); !errors.Is(err, cut) {
				t.Fatalf("import = %v, want the reader's error", err)
			}
			if c, err := s.Count(context.Background()); err != nil || c != (blog.Counts{}) {
				t.Fatalf("Count after a failed import = %+v, %v", c, err)
			}
		})
	}
}

// TestExportIsOneSnapshot: on the SQL stores, a post written while Export
// runs is not in the backup, and the one written before is.
func TestExportIsOneSnapshot(t *testing.T) {
	ctx := context.Background()
	for _, k := range kinds() {
		if k.name == "MongoDB" {
			continue // reads each collection as it comes to it (see mongo.Store.Export)
		}
		t.Run(k.name, func(t *testing.T) {
			s := k.open(t)
			u, err := s.CreateUser(ctx, blog.NewUser{Username: "writer", PasswordHash: "h", Role: blog.RoleAuthor})
			if err != nil {
				t.Fatal(err)
			}
			post := func(title string) error {
				_, err := s.CreatePost(ctx, blog.NewPost{AuthorID: u.ID, Title: title, Content: "content of " + title, ContentHTML: "<p>x</p>"})
				return err
			}
			if err := post("Before"); err != nil {
				t.Fatal(err)
			}
			var titles []string
			c, err := s.Export(ctx, func(r blog.Record) error {
				if r.User != nil {
					return post("During")
				}
				if r.Post != nil {
					titles = append(titles, r.Post.Title)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(titles, []string{"Before"}) || c.Posts != 1 {
				t.Fatalf("exported posts %q (counts %+v), want only the one written before", titles, c)
			}
		})
	}
}
