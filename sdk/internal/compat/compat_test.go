package compat

import (
	"flag"
	"os"
	"strings"
	"testing"

	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
)

var update = flag.Bool("update", false, "rewrite the snapshot after a compatible change")

const snapshot = "../../proto/quarry/sig/v1/sig.snapshot.json"

// TestSIGv1IsCompatible fails when quarry/sig/v1 changes in a way a plugin
// or host built against the released snapshot would notice. After adding
// fields, messages or calls, run: go test ./internal/compat -update (in sdk/)
func TestSIGv1IsCompatible(t *testing.T) {
	now := Of(sigv1.File_quarry_sig_v1_sig_proto)
	data, err := os.ReadFile(snapshot)
	if err != nil {
		t.Fatalf("the released snapshot: %v", err)
	}
	old, err := Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", snapshot, err)
	}
	if breaks := Breaks(old, now); len(breaks) > 0 {
		t.Fatalf("quarry/sig/v1 is released; these changes break its peers (make a v2 instead):\n%s", strings.Join(breaks, "\n"))
	}
	if *update {
		if err := os.WriteFile(snapshot, now.Marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBreaksBites: each kind of incompatible change is caught, and an
// addition is not.
func TestBreaksBites(t *testing.T) {
	base := func() *Shape { s, _ := Parse(Of(sigv1.File_quarry_sig_v1_sig_proto).Marshal()); return s }
	cases := map[string]func(s *Shape){
		"field 2 (plugin_version) was removed": func(s *Shape) { delete(s.Messages["quarry.sig.v1.GetPluginInfoResponse"], 2) },
		"field 1 changed": func(s *Shape) {
			f := s.Messages["quarry.sig.v1.Repo"][1]
			f.Kind = "bytes"
			s.Messages["quarry.sig.v1.Repo"][1] = f
		},
		"method quarry.sig.v1.SIG/Stop was removed": func(s *Shape) { delete(s.Methods, "quarry.sig.v1.SIG/Stop") },
		"method quarry.sig.v1.SIG/Repos changed": func(s *Shape) {
			m := s.Methods["quarry.sig.v1.SIG/Repos"]
			m.ServerStream = true
			s.Methods["quarry.sig.v1.SIG/Repos"] = m
		},
		"value 2 (CAPABILITY_PACKAGES) was removed or renamed": func(s *Shape) { s.Enums["quarry.sig.v1.Capability"][2] = "CAPABILITY_SOURCES" },
	}
	for want, edit := range cases {
		next := base()
		edit(next)
		if got := strings.Join(Breaks(base(), next), "\n"); !strings.Contains(got, want) {
			t.Errorf("%s: got %q", want, got)
		}
	}
	added := base()
	added.Messages["quarry.sig.v1.Repo"][99] = Field{Name: "new", Kind: "string", Card: "optional"}
	added.Methods["quarry.sig.v1.SIG/New"] = Method{Input: "a", Output: "b"}
	if got := Breaks(base(), added); len(got) > 0 {
		t.Errorf("an addition breaks: %v", got)
	}
}
