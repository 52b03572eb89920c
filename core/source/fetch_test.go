package source

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// An upstream server is not trusted to be sane: an object over the limit
// is refused whether or not it says its size, and so is a local file that
// is not a regular one.
func TestFetchIsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/declared" {
			w.Header().Set("Content-Length", "1000000")
		}
		w.Write([]byte(strings.Repeat("x", 5000)))
	}))
	defer srv.Close()
	f := &Fetcher{MaxBytes: 4096}
	for _, p := range []string{"/declared", "/streamed"} {
		if _, err := f.Fetch(context.Background(), srv.URL+p); err == nil || !strings.Contains(err.Error(), "limit of 4096") {
			t.Errorf("%s: %v", p, err)
		}
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Fetch(context.Background(), fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO: %v", err)
	}
	small := filepath.Join(t.TempDir(), "small")
	os.WriteFile(small, []byte("ok"), 0o644)
	if data, err := f.Fetch(context.Background(), small); err != nil || string(data) != "ok" {
		t.Errorf("a small file: %q %v", data, err)
	}
}
