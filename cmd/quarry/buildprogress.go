package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/plan"
)

// buildProgress shows a build: on a terminal, a live line per arch (done,
// running, queued, failed, elapsed, ETA); otherwise a plain line per event
// on stderr, or JSON events on stdout with --json.
type buildProgress struct {
	mu     sync.Mutex
	out    io.Writer
	tty    bool
	json   bool
	start  time.Time
	arches []string
	arch   map[string]string // job → arch
	status map[string]string // job → status
	drawn  int
}

func newBuildProgress(p *plan.Plan, asJSON bool) *buildProgress {
	bp := &buildProgress{out: os.Stderr, json: asJSON, start: time.Now(), arch: map[string]string{}, status: map[string]string{}}
	bp.tty = !asJSON && term.IsTerminal(int(os.Stderr.Fd()))
	if asJSON {
		bp.out = os.Stdout
	}
	seen := map[string]bool{}
	for _, j := range p.Jobs {
		bp.arch[j.ID], bp.status[j.ID] = j.Arch, build.Queued
		if !seen[j.Arch] {
			seen[j.Arch] = true
			bp.arches = append(bp.arches, j.Arch)
		}
	}
	sort.Strings(bp.arches)
	return bp
}

func (bp *buildProgress) event(ev build.Event) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	bp.status[ev.Job] = ev.Status
	switch {
	case bp.json:
		b, _ := json.Marshal(struct {
			Kind string `json:"event"`
			build.Event
		}{"build", ev})
		fmt.Fprintln(bp.out, string(b))
	case bp.tty:
		if ev.Status == build.Failed {
			bp.clear()
			fmt.Fprintf(bp.out, "FAILED %s\n", ev.Detail)
		}
		bp.draw()
	default:
		switch ev.Status {
		case build.Running:
			fmt.Fprintf(bp.out, "build %s: started\n", ev.Job)
		case build.Built:
			fmt.Fprintf(bp.out, "build %s: built in %s\n", ev.Job, ev.Elapsed.Round(time.Millisecond))
		case build.Failed, build.Skipped:
			fmt.Fprintf(bp.out, "build %s: %s: %s\n", ev.Job, ev.Status, ev.Detail)
		default:
			fmt.Fprintf(bp.out, "build %s: %s\n", ev.Job, ev.Status)
		}
	}
}

func (bp *buildProgress) clear() {
	for i := 0; i < bp.drawn; i++ {
		fmt.Fprint(bp.out, "\033[1A\r\033[K")
	}
	bp.drawn = 0
}

func (bp *buildProgress) draw() {
	bp.clear()
	elapsed := time.Since(bp.start)
	counts := map[string]map[string]int{}
	for job, st := range bp.status {
		a := bp.arch[job]
		if counts[a] == nil {
			counts[a] = map[string]int{}
		}
		counts[a][st]++
	}
	for _, a := range bp.arches {
		c := counts[a]
		finished := c[build.Built] + c[build.Cached] + c[build.Failed] + c[build.Skipped]
		total := finished + c[build.Running] + c[build.Queued]
		eta := "-"
		if finished > 0 && finished < total {
			eta = (elapsed * time.Duration(total-finished) / time.Duration(finished)).Round(time.Second).String()
		}
		fmt.Fprintf(bp.out, "%-8s %3d/%-3d done  %2d running  %3d queued  %2d failed  %s elapsed  ETA %s\n",
			a, finished, total, c[build.Running], c[build.Queued], c[build.Failed]+c[build.Skipped], elapsed.Round(time.Second), eta)
		bp.drawn++
	}
}

func (bp *buildProgress) finish() {}
