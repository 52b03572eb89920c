package safetext

import (
	"strings"
	"testing"
)

func TestTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"plain\nlog\tline":                     "plain\nlog\tline",
		"\x1b]0;all good\x07":                  `\x1b]0;all good\x07`,
		"\x1b]52;c;Y3VybA==\x07\x1b[2K\x1b[1A": `\x1b]52;c;Y3VybA==\x07\x1b[2K\x1b[1A`,
		"over\rwrite":                          `over\x0dwrite`,
		"c1 \u009b31m":                         `c1 \u009b31m`,
		"bidi \u202etxt.exe":                   `bidi \u202etxt.exe`,
		"bad \xff byte":                        `bad \xff byte`,
		"ünïcode stays":                        "ünïcode stays",
	} {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
		if strings.ContainsAny(Terminal(in), "\x1b\x07\r") {
			t.Errorf("Terminal(%q) keeps a control character", in)
		}
	}
}

func TestLineProblem(t *testing.T) {
	if p := LineProblem("Extras for HPC", 200); p != "" {
		t.Error(p)
	}
	for _, bad := range []string{"x\n[pebble-baseos]\ngpgcheck=0", "tab\there", "\u202eevil", "bad \xff", strings.Repeat("x", 201)} {
		if LineProblem(bad, 200) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTail(t *testing.T) {
	if got := Tail("a\nb\nc\n\x1b[2Kd\n", 2); got != "c\n\\x1b[2Kd" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail("only", 5); got != "only" {
		t.Errorf("Tail = %q", got)
	}
}
