package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// runBare is the reference server: plain net/http, no middleware, the same
// JSON as Palisade's GET /posts and GET /posts/{id} from posts loaded into
// memory at start (so it measures what HTTP and encoding/json cost, with no
// database), and GET /ok answering "ok".
func runBare(args []string) error {
	fs := flag.NewFlagSet("palisade-bench bare", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback)")
	data := fs.String("data", "", "the seeded SQLite database file")
	idsPath := fs.String("ids", "", "file of post IDs (one a line) to load for GET /posts/{id}")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("--data is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	feed, byID, err := loadPosts(ctx, *data, *idsPath)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok") // fails only if the client went away
	})
	mux.HandleFunc("GET /posts", func(w http.ResponseWriter, r *http.Request) {
		bareJSON(w, http.StatusOK, feed)
	})
	mux.HandleFunc("GET /posts/{id}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := byID[r.PathValue("id")]
		if !ok {
			bareJSON(w, http.StatusNotFound, map[string]string{"error": "Post not found"})
			return
		}
		bareJSON(w, http.StatusOK, p)
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown) // past the grace period the process exits anyway
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// loadPosts reads the first page of the feed and the posts listed in
// idsPath through the store, then closes it.
func loadPosts(ctx context.Context, dbPath, idsPath string) ([]blog.Post, map[string]blog.Post, error) {
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	defer func() { _ = store.Close() }() // only read from
	feed, _, err := store.ListPosts(ctx, blog.Page{Limit: blog.DefaultPageLimit})
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]blog.Post)
	if idsPath == "" {
		return feed, byID, nil
	}
	f, err := os.Open(idsPath)
	if err != nil {
		return nil, nil, fmt.Errorf("post IDs: %w", err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id := strings.TrimSpace(sc.Text())
		if _, done := byID[id]; id == "" || done {
			continue
		}
		p, err := store.PostByID(ctx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("load post %s: %w", id, err)
		}
		byID[id] = p
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("post IDs: %w", err)
	}
	return feed, byID, nil
}

// bareJSON encodes v on every request, as Palisade does, with the same
// bytes (json.Marshal escapes <, > and &; a final newline).
func bareJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n')) // fails only if the client went away
}
