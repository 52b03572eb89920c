package main

import (
	"slices"
	"strings"
	"testing"
)

func TestFlagsFirst(t *testing.T) {
	app := newApp()
	cases := []struct{ in, want string }{
		// Flags after arguments move before them, with their values.
		{"quarry build greet --no-import --out /tmp/o", "quarry build --no-import --out /tmp/o greet"},
		{"quarry plugin check a b --quick --junit r.xml", "quarry plugin check --quick --junit r.xml a b"},
		{"quarry import greet@c9 --jobs 2", "quarry import --jobs 2 greet@c9"},
		{"quarry import greet --jobs=2", "quarry import --jobs=2 greet"},
		// Global flags after the command go before it.
		{"quarry build --json greet", "quarry --json build greet"},
		{"quarry --config c.yaml build greet -j 3 --state s", "quarry --config c.yaml --state s build -j 3 greet"},
		// "--" ends the flags; unknown flags stay for the command to name.
		{"quarry build greet -- --no-import", "quarry build greet -- --no-import"},
		{"quarry build greet --nosuch", "quarry build greet --nosuch"},
		{"quarry build greet --help", "quarry build --help greet"},
		// Not a command: left alone (the app says so).
		{"quarry bulid greet --no-import", "quarry bulid greet --no-import"},
		{"quarry", "quarry"},
	}
	for _, c := range cases {
		got := strings.Join(flagsFirst(app, strings.Fields(c.in)), " ")
		if got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	// The input is not changed.
	in := strings.Fields("quarry build greet --no-import")
	keep := slices.Clone(in)
	flagsFirst(app, in)
	if !slices.Equal(in, keep) {
		t.Errorf("flagsFirst changed its input: %v", in)
	}
}
