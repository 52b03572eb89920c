package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/history"
	"github.com/quarrylinux/quarry/core/layout"
	"github.com/quarrylinux/quarry/core/store"
)

// A console over a real history database and store, in process: every
// page and its JSON twin, what a job's log holds escaped, the headers.
func TestPagesAndTheirTwins(t *testing.T) {
	dir := t.TempDir()
	lay := layout.Layout{Distro: "pebble", State: dir, Out: filepath.Join(dir, "out")}
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := history.Open(lay.History())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hostile := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	logDigest, err := st.Put([]byte("building...\n" + hostile + "\nerror: Bad exit status\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id, err := db.Begin(history.Run{Command: "build", PID: os.Getpid(), Started: now})
	if err != nil {
		t.Fatal(err)
	}
	db.AddJobs(id, []history.Job{
		{ID: "greet/x86_64", Package: "greet", Arch: "x86_64", Status: "built", Started: now, Ended: now.Add(time.Second)},
		{ID: "evil/x86_64", Package: "evil", Arch: "x86_64", Status: "failed", Log: logDigest, Error: hostile, Started: now, Ended: now},
	})
	db.Finish(id, history.StateFailed, "", []string{"sig " + hostile + ": broken"})

	s := &Server{Layout: lay, Store: st, History: db, Arches: []string{"x86_64"}, SIGs: []string{"hpc"}}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	for _, path := range []string{"/", "/runs", "/runs/1", "/runs/1/jobs/evil/x86_64", "/runs/1/jobs/evil/x86_64/log", "/composes", "/sigs", "/verify"} {
		resp, body := get(path)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: the hostile text is markup:\n%s", path, body)
		}
		api, abody := get("/api/v1" + strings.TrimSuffix(path, "/"))
		if path == "/" {
			api, abody = get("/api/v1/runs")
		}
		var v any
		if api.StatusCode != 200 || json.Unmarshal([]byte(abody), &v) != nil {
			t.Errorf("/api/v1%s: %s %.200s", path, api.Status, abody)
		}
	}
	_, body := get("/runs/1/jobs/evil/x86_64/log")
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("the log is not shown as text:\n%s", body)
	}
	var lv LogView
	_, abody := get("/api/v1/runs/1/jobs/evil/x86_64/log")
	if json.Unmarshal([]byte(abody), &lv) != nil || !strings.Contains(lv.Log, hostile) {
		t.Errorf("the log's twin: %.300s", abody)
	}
	for _, path := range []string{"/runs/2", "/runs/x", "/runs/1/jobs/nosuch/x86_64", "/composes/nosuch", "/api/v1/runs/9"} {
		if resp, _ := get(path); resp.StatusCode != 404 {
			t.Errorf("%s: %s, want 404", path, resp.Status)
		}
	}
	// Read-only: nothing answers a write.
	resp, err := http.Post(srv.URL+"/api/v1/runs", "application/json", strings.NewReader("{}"))
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", resp.Status, err)
	}
}
