package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// progress reports package events: a live line on a terminal, plain lines
// on stderr otherwise, JSON lines on stdout with --json.
type progress struct {
	mu       sync.Mutex
	out      io.Writer
	tty      bool
	json     bool
	stage    string
	total    int
	done     int
	failures int
}

func newProgress(stage string, total int, asJSON bool) *progress {
	p := &progress{out: os.Stderr, stage: stage, total: total, json: asJSON}
	p.tty = !asJSON && term.IsTerminal(int(os.Stderr.Fd()))
	if asJSON {
		p.out = os.Stdout
	}
	return p
}

func (p *progress) event(pkg, status, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if status != "started" {
		p.done++
	}
	if status == "failed" {
		p.failures++
	}
	switch {
	case p.json:
		b, _ := json.Marshal(map[string]any{"event": p.stage, "package": pkg, "status": status, "detail": detail, "done": p.done, "total": p.total})
		fmt.Fprintln(p.out, string(b))
	case p.tty:
		if status == "failed" {
			fmt.Fprintf(p.out, "\r\033[K%s %s: failed\n", p.stage, pkg)
		}
		fmt.Fprintf(p.out, "\r\033[K%s [%d/%d] %s %s", p.stage, p.done, p.total, pkg, status)
	default:
		if status != "started" {
			fmt.Fprintf(p.out, "%s %s: %s %s\n", p.stage, pkg, status, detail)
		}
	}
}

func (p *progress) finish() {
	if p.tty {
		fmt.Fprint(p.out, "\r\033[K")
	}
}
