package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/history"
	"github.com/quarrylinux/quarry/core/layout"
)

// fakeActions records what the console asked of it.
type fakeActions struct {
	builds    [][]string
	rollbacks int
	err       error
}

func (f *fakeActions) Build(_ context.Context, pkgs []string) (Started, error) {
	f.builds = append(f.builds, pkgs)
	return Started{Action: "build", Run: 41}, f.err
}

func (f *fakeActions) Rollback(context.Context) (Started, error) {
	f.rollbacks++
	return Started{Action: "rollback", Run: 42, Done: true}, f.err
}

type client struct {
	t   *testing.T
	url string
}

func (c client) do(method, path, token string, hdr map[string]string, body string) (int, string, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// Without a token nothing acts, and the pages offer nothing.
func TestActionsOffByDefault(t *testing.T) {
	f := &fakeActions{}
	s := &Server{Layout: layout.Layout{Distro: "pebble", State: t.TempDir()}, Actions: f}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c := client{t, srv.URL}
	for _, path := range []string{"/api/v1/actions/build", "/api/v1/actions/rollback"} {
		if code, body, _ := c.do("POST", path, "anything", nil, ""); code != http.StatusForbidden || !strings.Contains(body, "--token-file") {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	if _, body, _ := c.do("GET", "/api/v1/actions", "", nil, ""); !strings.Contains(body, `"enabled": false`) {
		t.Errorf("/api/v1/actions: %s", body)
	}
	if _, body, _ := c.do("GET", "/runs", "", nil, ""); strings.Contains(body, `id="actions"`) || !strings.Contains(body, "Read-only console") {
		t.Errorf("a read-only console offers actions:\n%s", body)
	}
	if len(f.builds) != 0 || f.rollbacks != 0 {
		t.Errorf("it acted: %+v", f)
	}
}

// With a token, an action needs exactly it, from the console's own
// pages, with names that are package names; and not while a run is on.
func TestActionsNeedTheToken(t *testing.T) {
	dir := t.TempDir()
	lay := layout.Layout{Distro: "pebble", State: dir}
	db, err := history.Open(lay.History())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := &fakeActions{}
	const token = "s3cret-token-of-the-console-0123456789"
	s := &Server{Layout: lay, History: db, Actions: f, Token: token}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c := client{t, srv.URL}

	refused := []struct {
		name, token string
		hdr         map[string]string
		body        string
		code        int
	}{
		{"no token", "", nil, "", http.StatusUnauthorized},
		{"wrong token", token + "x", nil, "", http.StatusUnauthorized},
		{"a prefix of it", token[:10], nil, "", http.StatusUnauthorized},
		{"basic auth", "", map[string]string{"Authorization": "Basic " + token}, "", http.StatusUnauthorized},
		{"another site's page", token, map[string]string{"Origin": "https://evil.example"}, "", http.StatusForbidden},
		{"a flag for a name", token, nil, `{"packages":["--out=/etc"]}`, http.StatusBadRequest},
		{"a path for a name", token, nil, `{"packages":["../x"]}`, http.StatusBadRequest},
		{"unknown field", token, nil, `{"packages":[],"exec":"sh"}`, http.StatusBadRequest},
		{"form body", token, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, `packages=x`, http.StatusUnsupportedMediaType},
	}
	for _, r := range refused {
		code, body, hdr := c.do("POST", "/api/v1/actions/build", r.token, r.hdr, r.body)
		if code != r.code {
			t.Errorf("%s: %d %s, want %d", r.name, code, body, r.code)
		}
		if code == http.StatusUnauthorized && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no WWW-Authenticate", r.name)
		}
		if strings.Contains(body, token) {
			t.Errorf("%s: the answer holds the token", r.name)
		}
	}
	if len(f.builds) != 0 {
		t.Fatalf("refused requests acted: %v", f.builds)
	}

	code, body, _ := c.do("POST", "/api/v1/actions/build", token, map[string]string{"Origin": srv.URL}, `{"packages":["greet","python3.11-libs","g++"]}`)
	var st Started
	if code != http.StatusAccepted || json.Unmarshal([]byte(body), &st) != nil || st.Run != 41 || st.URL != "/runs/41" {
		t.Fatalf("build: %d %s", code, body)
	}
	if !slices.Equal(f.builds[0], []string{"greet", "python3.11-libs", "g++"}) {
		t.Errorf("built %v", f.builds)
	}
	if code, body, _ := c.do("POST", "/api/v1/actions/rollback", token, nil, ""); code != http.StatusOK || !strings.Contains(body, `"done": true`) {
		t.Errorf("rollback: %d %s", code, body)
	}

	// The pages offer the actions, and hold no token.
	_, page, _ := c.do("GET", "/runs", "", nil, "")
	if !strings.Contains(page, `id="actions"`) || !strings.Contains(page, `data-action="build"`) || strings.Contains(page, token) {
		t.Errorf("the runs page:\n%s", page)
	}
	if _, page, _ := c.do("GET", "/composes", "", nil, ""); !strings.Contains(page, `data-action="rollback"`) || strings.Contains(page, `data-action="build"`) {
		t.Errorf("the composes page:\n%s", page)
	}

	// A run under way (this process's, so alive): no second one.
	id, err := db.Begin(history.Run{Command: "build", PID: os.Getpid(), Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := c.do("POST", "/api/v1/actions/rollback", token, nil, ""); code != http.StatusConflict || !strings.Contains(body, "run ") {
		t.Errorf("while run %d is on: %d %s", id, code, body)
	}
	db.Finish(id, history.StateSucceeded, "", nil)
	f.err = &ActionError{Action: "build", Err: ErrBusy}
	if code, body, _ := c.do("POST", "/api/v1/actions/build", token, nil, ""); code != http.StatusConflict {
		t.Errorf("a busy state: %d %s", code, body)
	}
}

// Commands runs each action as its own process and reads its run from
// its events; refusals and failures come back with what it said.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	args := filepath.Join(dir, "args")
	c := &Commands{Global: []string{"--state", "S"}, Out: "OUT", Output: filepath.Join(dir, "out"), BusyExit: 4}
	ctx := context.Background()

	// A build goes on after it has said its run; Stop interrupts it.
	// (No trap in the script: a SIGINT caught while sh execs is lost.)
	c.Exe = script("build", `echo "$@" > `+args+`
echo '{"event":"phase","phase":"import"}'
echo '{"event":"phase","phase":"import","run":7}'
exec sleep 1000`)
	st, err := c.Build(ctx, []string{"greet", "hello"})
	if err != nil || st.Run != 7 || st.Done {
		t.Fatalf("build: %+v %v", st, err)
	}
	got, _ := os.ReadFile(args)
	if want := "--state S --json build --out OUT -- greet hello\n"; string(got) != want {
		t.Errorf("its command line: %q, want %q", got, want)
	}
	stop, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c.Stop(stop)
	if stop.Err() != nil {
		t.Fatal("Stop did not end the build")
	}
	if out, _ := os.ReadFile(st.Output); !strings.Contains(string(out), `"run":7`) {
		t.Errorf("its output: %q", out)
	}
	if fi, err := os.Stat(st.Output); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("its output's mode: %v %v", fi.Mode(), err)
	}
	// Once stopping, nothing starts that Stop would not see.
	if _, err := c.Build(ctx, nil); err == nil || !strings.Contains(err.Error(), "stopping") {
		t.Errorf("a build after Stop: %v", err)
	}
	c = &Commands{Global: c.Global, Out: c.Out, Output: c.Output, BusyExit: c.BusyExit}

	c.Exe = script("rollback", `echo '{"event":"phase","phase":"publish","run":8}'`)
	if st, err := c.Rollback(ctx); err != nil || st.Run != 8 || !st.Done {
		t.Errorf("rollback: %+v %v", st, err)
	}
	c.Exe = script("busy", `echo "another quarry build is running over S" >&2; exit 4`)
	if _, err := c.Build(ctx, nil); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "another quarry build") {
		t.Errorf("busy: %v", err)
	}
	c.Exe = script("broken", `echo "quarry: config: quarry.yaml:3: bad" >&2; exit 1`)
	var ae *ActionError
	if _, err := c.Build(ctx, nil); !errors.As(err, &ae) || !strings.Contains(ae.Output, "quarry.yaml:3") {
		t.Errorf("broken: %v", err)
	}
	c.Exe = script("failed-rollback", `echo '{"event":"phase","run":9}'; echo "nothing to roll back to" >&2; exit 1`)
	if st, err := c.Rollback(ctx); !errors.As(err, &ae) || st.Run != 9 || !strings.Contains(ae.Output, "nothing to roll back") {
		t.Errorf("failed rollback: %+v %v", st, err)
	}
}
