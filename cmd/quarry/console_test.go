package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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
	serve := d.command("serve", "--listen", "127.0.0.1:0")
	stdout, _ := serve.StdoutPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { serve.Process.Signal(os.Interrupt); serve.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	base := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "serving the console on ")), "/")

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
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__loaded = true`))
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
