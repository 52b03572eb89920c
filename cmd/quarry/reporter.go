package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/pipeline"
)

// reporter shows a command's progress: on a terminal, a live status line
// (the phase, what is done, the jobs running, elapsed and ETA); otherwise
// a plain line per event on stderr, or, with --json, every event as one
// JSON line on stdout (pipeline.Event: the one schema of every command).
type reporter struct {
	mu      sync.Mutex
	out     io.Writer
	tty     bool
	json    bool
	start   time.Time
	phase   string
	done    int
	total   int
	failed  int
	running []string // jobs or packages in progress, in start order
	shown   bool
}

func newReporter(asJSON bool) *reporter {
	r := &reporter{out: os.Stderr, json: asJSON, start: time.Now()}
	r.tty = !asJSON && term.IsTerminal(int(os.Stderr.Fd()))
	if asJSON {
		r.out = os.Stdout
	}
	return r
}

func (e *env) reporter() *reporter { return newReporter(e.json) }

// emit shows one event: the pipeline's, or a command's own.
func (r *reporter) event(ev pipeline.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if ev.Phase != "" && ev.Phase != r.phase {
		r.phase, r.done, r.total, r.running = ev.Phase, 0, 0, nil
	}
	if ev.Total > 0 {
		r.done, r.total = ev.Done, ev.Total
	}
	item := ev.Job
	if item == "" {
		item = ev.Package
	}
	switch ev.Status {
	case build.Running, "started":
		r.running = append(r.running, item)
	case build.Queued:
	default:
		r.running = slices.DeleteFunc(r.running, func(s string) bool { return s == item })
	}
	if ev.Status == build.Failed {
		r.failed++
	}
	switch {
	case r.json:
		b, _ := json.Marshal(ev)
		fmt.Fprintln(r.out, string(b))
	case r.tty:
		r.clear()
		if line := plainLine(ev); line != "" && (ev.Status == build.Failed || ev.Kind != pipeline.EventJob && ev.Kind != pipeline.EventPackage) {
			fmt.Fprintln(r.out, line)
		}
		r.draw()
	default:
		if line := plainLine(ev); line != "" {
			fmt.Fprintln(r.out, line)
		}
	}
}

// plainLine is an event as one line of text, or "" for none.
func plainLine(ev pipeline.Event) string {
	switch ev.Kind {
	case pipeline.EventPhase:
		return ev.Phase + ":"
	case pipeline.EventJob, pipeline.EventPackage:
		item := cmp.Or(ev.Job, ev.Package)
		switch ev.Status {
		case build.Running, "started":
			return fmt.Sprintf("%s %s: started", ev.Phase, item)
		case build.Built:
			return fmt.Sprintf("%s %s: built in %s", ev.Phase, item, ev.Elapsed.Round(time.Millisecond))
		case build.Failed:
			return fmt.Sprintf("%s %s: %s: %s", ev.Phase, item, ev.Status, cmp.Or(ev.Error, ev.Detail))
		case build.Skipped:
			return fmt.Sprintf("%s %s: %s: %s", ev.Phase, item, ev.Status, firstLine(cmp.Or(ev.Error, ev.Detail)))
		}
		return strings.TrimSpace(fmt.Sprintf("%s %s: %s %s", ev.Phase, item, ev.Status, ev.Detail))
	case pipeline.EventSIG:
		return fmt.Sprintf("sig %s: %s: %s", ev.SIG, ev.Status, firstLine(ev.Detail))
	case pipeline.EventNothing:
		return "publish: " + ev.Detail
	}
	return ""
}

func (r *reporter) clear() {
	if r.shown {
		fmt.Fprint(r.out, "\r\033[K")
		r.shown = false
	}
}

// draw is the live line: the phase, done/total, failures, elapsed, ETA
// and the running items.
func (r *reporter) draw() {
	if r.phase == "" {
		return
	}
	elapsed := time.Since(r.start).Round(time.Second)
	line := fmt.Sprintf("%s %d/%d", r.phase, r.done, r.total)
	if r.total == 0 {
		line = r.phase + " …"
	}
	if r.failed > 0 {
		line += fmt.Sprintf(", %d failed", r.failed)
	}
	line += "  " + elapsed.String()
	if r.done > 0 && r.done < r.total {
		line += "  ETA " + (time.Since(r.start) * time.Duration(r.total-r.done) / time.Duration(r.done)).Round(time.Second).String()
	}
	if n := len(r.running); n > 0 {
		shown := r.running[:min(n, 3)]
		line += "  running: " + strings.Join(shown, " ")
		if n > 3 {
			line += fmt.Sprintf(" (+%d)", n-3)
		}
	}
	if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil && w > 1 && len([]rune(line)) >= w {
		line = string([]rune(line)[:w-1])
	}
	fmt.Fprint(r.out, line)
	r.shown = true
}

// finish takes the live line away.
func (r *reporter) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// items reports a command's own phase of total packages: call the
// returned func as each starts ("started") and ends (any other status).
func (r *reporter) items(phase string, total int) func(pkg, status, detail string) {
	var mu sync.Mutex
	done := 0
	r.event(pipeline.Event{Kind: pipeline.EventPhase, Phase: phase, Total: total})
	return func(pkg, status, detail string) {
		mu.Lock()
		defer mu.Unlock()
		if status != "started" {
			done++
		}
		r.event(pipeline.Event{Kind: pipeline.EventPackage, Phase: phase, Package: pkg, Status: status, Detail: detail, Done: done, Total: total})
	}
}
