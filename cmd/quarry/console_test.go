package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The console in a real browser (Debian's chromium, driven over the
// DevTools protocol) during a real build: a job changes state on the
// page without a reload, a failed job's log is one click away, and a log
// holding markup shows it as text. Screenshots go to $QUARRY_SCREENSHOTS
// (or the test's folder).
func TestConsoleInABrowser(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.publish(
		badSpec("xss", `echo '<script>document.title="pwned"</script><img src=x onerror="document.title='"'"'pwned'"'"'">'; exit 1`),
		// A job that takes a while, so the page sees it run, then build.
		misbehaving("slow", "BuildArch: noarch", "sleep 8"),
	)
	d.only([]string{"slow", "xss", "greet-motd"}, []string{"slow", "xss", "greet-motd"})
	d.mustRun("import")
	d.keyInit()
	shots := os.Getenv("QUARRY_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	// The console first: it opens the history once the build makes it.
	base, stop := startConsole(t, d)
	defer stop()

	// The build, its events read until the build phase has its jobs.
	build := d.command("--json", "build", "--no-import", "--jobs", "1")
	events, _ := build.StdoutPipe()
	if err := build.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(events)
	var run int64
	for run == 0 && sc.Scan() {
		var ev struct {
			Event, Phase string
			Run          int64
			Jobs         []any
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event == "phase" && ev.Phase == "build" && len(ev.Jobs) > 0 {
			run = ev.Run
		}
	}
	if run == 0 {
		t.Fatal("the build never started its jobs")
	}
	go io.Copy(io.Discard, events)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("chromium"), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	browser, cancel := chromedp.NewContext(actx)
	defer cancel()
	var dialogs atomic.Int32 // an alert() a log line smuggled in
	// (The first call starts chromium, on a context without a deadline.)
	if err := chromedp.Listen(browser, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
		}
	}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
	defer cancel()
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(shots, name), buf, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// The slow job, queued or running when the page loads, turns built
	// on the page: the SSE stream updates it; the page never reloads (the
	// marker set after the load survives).
	must("the run page", chromedp.Do(ctx, chromedp.Navigate(base+"/runs/"+itoa(run)), chromedp.WaitVisible(`#grid`)))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__loaded = true`))
	must("mark the page", err)
	before, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('td[data-job="slow/noarch"] .status').textContent`))
	must("the slow job's state", err)
	if before != "queued" && before != "running" {
		t.Fatalf("the slow job is %q when the page loads: the test sees no change", before)
	}
	shot("console-run-live.png")
	must("the slow job builds on the page", chromedp.Do(ctx, chromedp.WaitVisible(`td.status-built[data-job="slow/noarch"]`), chromedp.WaitVisible(`td.status-failed[data-job="xss/x86_64"]`)))
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__loaded === true`))
	must("read the marker", err)
	if !marker {
		t.Error("the run page reloaded to show the change")
	}
	shot("console-run.png")
	// Click through to the failed job and its log.
	must("the failed job", chromedp.Do(ctx, chromedp.Click(`td[data-job="xss/x86_64"] a`), chromedp.WaitVisible(`#log-link`)))
	shot("console-job.png")
	must("its log", chromedp.Do(ctx, chromedp.Click(`#log-link`), chromedp.WaitVisible(`#log`)))
	logText, err := chromedp.Run(ctx, chromedp.TextContent(`#log`))
	must("the log's text", err)
	logHTML, err := chromedp.Run(ctx, chromedp.InnerHTML(`#log`))
	must("the log's HTML", err)
	title, err := chromedp.Run(ctx, chromedp.Title())
	must("the title", err)
	shot("console-log.png")
	if !strings.Contains(logText, `<script>document.title="pwned"</script>`) {
		t.Errorf("the log does not show the markup as text:\n%s", logText)
	}
	if strings.Contains(logHTML, "<script>") || strings.Contains(logHTML, "<img") || title == "pwned" || dialogs.Load() > 0 {
		t.Errorf("the log's markup ran or became elements: title %q, %d dialogs, html %q", title, dialogs.Load(), logHTML)
	}
	build.Wait()
	// Every page has a JSON twin.
	for _, path := range []string{"/api/v1/runs", "/api/v1/runs/" + itoa(run), "/api/v1/runs/" + itoa(run) + "/jobs/xss/x86_64/log", "/api/v1/composes", "/api/v1/sigs", "/api/v1/verify"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s %v", path, resp.StatusCode, resp.Header.Get("Content-Type"), err)
		}
	}
	t.Logf("screenshots in %s", shots)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The console's actions, for real: off without a token file, refused
// without the token or while another build holds the state; with it, a
// click on Build in chromium runs quarry build as a process of its own
// (recorded "via console") and lands on its run, and a rollback makes the
// compose before current again.
func TestConsoleActions(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.only([]string{"greet-motd"}, []string{"greet-motd"})
	d.mustRun("import")
	d.keyInit()
	d.mustRun("build")
	first := d.currentID()

	tokenFile := filepath.Join(d.dir, "console.token")
	const token = "Zm9yIHRoZSBjb25zb2xlIG9ubHksIG5ldmVyIGEgY29va2ll"
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := d.run("serve", "--listen", "127.0.0.1:0", "--token-file", tokenFile); code != 1 || !strings.Contains(stderr, "chmod 600") {
		t.Fatalf("a token others can read: exit %d\n%s", code, stderr)
	}
	if err := os.Chmod(tokenFile, 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop := startConsole(t, d, "--token-file", tokenFile)
	defer stop()

	post := func(path, tok, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	if code, v := post("/api/v1/actions/build", "", "{}"); code != http.StatusUnauthorized {
		t.Errorf("no token: %d %v", code, v)
	}
	// Another build holds the state: the console's build is refused
	// with why, and nothing is recorded.
	unlock := holdStateLock(t, d)
	if code, v := post("/api/v1/actions/build", token, "{}"); code != http.StatusConflict || !strings.Contains(fmt.Sprint(v["error"]), "another quarry build is running") {
		t.Errorf("while the state is held: %d %v", code, v)
	}
	unlock()

	// Something new, then Build clicked in a real browser.
	d.bump("greet-motd")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("chromium"), chromedp.NoSandbox)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	browser, cancel := chromedp.NewContext(actx)
	defer cancel()
	if _, err := chromedp.Run(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs"), chromedp.WaitVisible(`#actions`),
		chromedp.SendKeys(`#token`, token), chromedp.Click(`button[data-action="build"]`),
		chromedp.WaitVisible(`#grid`))
	if err != nil {
		t.Fatalf("Build in the browser: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	run, err := strconv.ParseInt(loc[strings.LastIndex(loc, "/")+1:], 10, 64)
	if err != nil {
		t.Fatalf("the page after Build: %s", loc)
	}
	end := waitRunEnd(t, base, run)
	if end["state"] != "succeeded" || !strings.HasSuffix(fmt.Sprint(end["user"]), " via console") || end["compose"] == first {
		t.Fatalf("the console's build: %v", end)
	}
	second := d.currentID()
	if second == first || second != end["compose"] {
		t.Fatalf("current is %s after the console's build (was %s, run says %v)", second, first, end["compose"])
	}

	code, v := post("/api/v1/actions/rollback", token, "")
	if code != http.StatusOK || v["done"] != true {
		t.Fatalf("rollback: %d %v", code, v)
	}
	if now := d.currentID(); now != first {
		t.Errorf("after the rollback %s is current, want %s", now, first)
	}
	rb := getJSON(t, base+"/api/v1/runs/"+fmt.Sprint(v["run"]))["run"].(map[string]any)
	if rb["command"] != "rollback" || rb["state"] != "succeeded" || rb["compose"] != first {
		t.Errorf("the rollback's run: %v", rb)
	}
}

// startConsole starts quarry serve on a free port and returns its base
// URL and how to stop it.
func startConsole(t *testing.T, d *distro, args ...string) (string, func()) {
	t.Helper()
	serve := d.command(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	stdout, _ := serve.StdoutPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		serve.Process.Kill()
		t.Fatalf("serve: %v", err)
	}
	return strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "serving the console on ")), "/"),
		func() { serve.Process.Signal(os.Interrupt); serve.Wait() }
}

// holdStateLock takes the state's build lock, as a running build does.
func holdStateLock(t *testing.T, d *distro) func() {
	t.Helper()
	dir := filepath.Join(d.state, "build")
	os.MkdirAll(dir, 0o755)
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

// waitRunEnd follows a run's events until its end, and returns the run.
func waitRunEnd(t *testing.T, base string, run int64) map[string]any {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/runs/%d/events", base, run))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		} else if data, ok := strings.CutPrefix(line, "data: "); ok && event == "end" {
			var r map[string]any
			if err := json.Unmarshal([]byte(data), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("run %d's events ended without an end: %v", run, sc.Err())
	return nil
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return v
}
