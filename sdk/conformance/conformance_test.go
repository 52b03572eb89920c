package conformance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/conformance"
)

type good struct{ cfg struct{ Name string } }

func (g *good) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "a plugin that conforms"}
}
func (g *good) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&g.cfg)
}
func (g *good) Repos(context.Context) ([]sdk.Repo, error) {
	return []sdk.Repo{{ID: "extras", Name: "Extras"}}, nil
}

// badVersion conforms but for its version string.
type badVersion struct{ good }

func (b *badVersion) Info() sdk.Info { return sdk.Info{Version: "v1", Description: "a bad version"} }

// TestGoodPluginPasses: every protocol check passes in process, and the
// checks only a process answers are skipped saying so.
func TestGoodPluginPasses(t *testing.T) {
	results := conformance.Run(t, conformance.InProcess(t, "good", func() sdk.Plugin { return &good{} }, []byte(`{"Name":"x"}`)))
	if len(results) != len(conformance.Protocol()) {
		t.Fatalf("%d results for %d checks", len(results), len(conformance.Protocol()))
	}
	for _, r := range results {
		switch {
		case r.Check == "structured-logs":
			if r.Status != conformance.Skip || r.Blocked || !strings.Contains(r.Message, "needs a plugin process") {
				t.Errorf("structured-logs in process: %+v", r)
			}
		case r.Status != conformance.Pass:
			t.Errorf("%s: %s %s", r.Check, r.Status, r.Message)
		}
	}
}

// TestOneCauseOneFailure: a bad version fails plugin-info; everything
// after it is skipped, naming it and its cause; the fix names the call.
func TestOneCauseOneFailure(t *testing.T) {
	target := conformance.InProcess(t, "bad", func() sdk.Plugin { return &badVersion{} }, nil)
	var failed []string
	for _, r := range conformance.Protocol().Check(context.Background(), target, conformance.Full) {
		switch {
		case r.Status == conformance.Fail:
			failed = append(failed, r.Check)
			if !strings.Contains(r.Failure(), `sdk.Info{Version: "1.2.3"}`) {
				t.Errorf("plugin-info's failure has no fix: %q", r.Failure())
			}
		case r.Check == "handshake" || r.Check == "structured-logs":
		case r.Status != conformance.Skip || !r.Blocked || !strings.HasPrefix(r.Message, "needs "):
			t.Errorf("%s: %s %q, want skipped for a failed prerequisite", r.Check, r.Status, r.Message)
		}
	}
	if strings.Join(failed, " ") != "plugin-info" {
		t.Errorf("failed %v, want plugin-info alone", failed)
	}
}

// TestPrerequisitesRunOnDemand: one check asked for alone (as go test
// -run TestConformance/determinism does) runs what it needs first, each
// once, and its skip carries a prerequisite's failure.
func TestPrerequisitesRunOnDemand(t *testing.T) {
	var ran []string
	suite := conformance.Suite{
		{Name: "a", Run: func(context.Context, *conformance.Env) error { ran = append(ran, "a"); return nil }},
		{Name: "b", Needs: []string{"a"}, Run: func(context.Context, *conformance.Env) error {
			ran = append(ran, "b")
			return conformance.Errorf("b broke\nsecond line")
		}},
		{Name: "c", Needs: []string{"a", "b"}, Run: func(context.Context, *conformance.Env) error { ran = append(ran, "c"); return nil }},
		{Name: "d", Needs: []string{"c"}, Run: func(context.Context, *conformance.Env) error { ran = append(ran, "d"); return nil }},
		{Name: "e", Needs: []string{"f"}, Level: conformance.Quick, Run: func(context.Context, *conformance.Env) error { ran = append(ran, "e"); return nil }},
		{Name: "f", Level: conformance.Full, Run: func(context.Context, *conformance.Env) error { ran = append(ran, "f"); return nil }},
		{Name: "g", Needs: []string{"g"}, Run: func(context.Context, *conformance.Env) error { return nil }},
		{Name: "h", Run: func(context.Context, *conformance.Env) error { panic("boom") }},
		{Name: "i", Needs: []string{"h"}, Run: func(context.Context, *conformance.Env) error { return nil }},
		{Name: "j", Needs: []string{"k"}, Run: func(context.Context, *conformance.Env) error { return nil }},
		{Name: "k", Needs: []string{"j"}, Run: func(context.Context, *conformance.Env) error { return nil }},
		{Name: "l", Needs: []string{"handshak"}, Run: func(context.Context, *conformance.Env) error { return nil }},
	}
	got := map[string]conformance.Result{}
	for _, r := range suite.Check(context.Background(), conformance.Target{}, conformance.Quick) {
		got[r.Check] = r
	}
	if strings.Join(ran, " ") != "a b e" {
		t.Errorf("ran %v, want a b e (each once, prerequisites first; f is above the level)", ran)
	}
	if r := got["c"]; r.Status != conformance.Skip || r.Message != "needs b, which failed: b broke" {
		t.Errorf("c: %+v", r)
	}
	if r := got["d"]; r.Status != conformance.Skip || !r.Blocked || !strings.Contains(r.Message, "needs c, which was skipped: needs b") {
		t.Errorf("d: %+v", r)
	}
	if r := got["e"]; r.Status != conformance.Pass {
		t.Errorf("e, whose prerequisite does not apply at this level: %+v", r)
	}
	if r := got["g"]; r.Status != conformance.Error || r.Message != "a cycle in Needs: g → g" {
		t.Errorf("g, which needs itself: %+v", r)
	}
	if r := got["h"]; r.Status != conformance.Error || !strings.Contains(r.Message, "panicked: boom") {
		t.Errorf("h, which panics: %+v", r)
	}
	if r := got["i"]; r.Status != conformance.Skip || !r.Blocked || r.Cause != "h" {
		t.Errorf("i, after a check that broke: %+v", r)
	}
	// A broken suite is an error, never a silent pass.
	for name, want := range map[string]string{"j": "a cycle in Needs: j → k → j", "k": "a cycle in Needs: j → k → j", "l": "needs handshak, which is not in the suite"} {
		if r := got[name]; r.Status != conformance.Error || r.Message != want {
			t.Errorf("%s: %+v, want error %q", name, r, want)
		}
	}
}
