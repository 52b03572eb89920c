package plan

import (
	"strings"
	"testing"
)

type provs map[string][]Dep

func (p provs) Provides(name string) []Dep { return p[name] }

func TestSatisfiedVersionsAndRichDeps(t *testing.T) {
	batch := provs{
		"libgreet-devel": {{Name: "libgreet-devel", Op: "=", EVR: "1.2-3.pbl9"}},
		"make":           {{Name: "make"}},
	}
	cases := []struct {
		dep  Dep
		want bool
	}{
		{Dep{Name: "libgreet-devel"}, true},
		{Dep{Name: "libgreet-devel", Op: ">=", EVR: "1.2"}, true},
		{Dep{Name: "libgreet-devel", Op: ">=", EVR: "1.10"}, false},
		{Dep{Name: "libgreet-devel", Op: "<", EVR: "1.2-4"}, true},
		{Dep{Name: "libgreet-devel", Op: "=", EVR: "1.2"}, true}, // no release: releases not compared
		{Dep{Name: "libgreet-devel", Op: ">", EVR: "1:1.0"}, false},
		{Dep{Name: "make", Op: ">=", EVR: "4"}, true}, // unversioned provide
		{Dep{Name: "(libgreet-devel or libfoo)"}, true},
		{Dep{Name: "(libgreet-devel and libfoo)"}, false},
		{Dep{Name: "(libfoo if libbar)"}, true},
		{Dep{Name: "(libfoo if make)"}, false},
		{Dep{Name: "(libfoo if make else libgreet-devel)"}, false},
		{Dep{Name: "(libgreet-devel if make else libfoo)"}, true},
		{Dep{Name: "(libfoo unless make)"}, true},
		{Dep{Name: "((libgreet-devel >= 1.2 with libgreet-devel < 2) or libfoo)"}, true},
		{Dep{Name: "(libgreet-devel without make)"}, false},
	}
	for _, c := range cases {
		got, err := Satisfied(c.dep, batch)
		if err != nil || got != c.want {
			t.Errorf("Satisfied(%s) = %v, %v; want %v", c.dep, got, err, c.want)
		}
	}
	for _, bad := range []string{"(a or)", "(a and b or c)", "(a >= )", "(a b)"} {
		if _, err := Satisfied(Dep{Name: bad}, batch); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

// pkg makes a package whose spec produces the given binaries on every arch.
func pkg(name string, br []string, bins ...string) *Package {
	src := &Source{Name: name, SRPM: "sha-" + name, File: name + "-1-1.src.rpm", Binaries: map[string][]Binary{}}
	for _, b := range br {
		src.BuildRequires = append(src.BuildRequires, Dep{Name: b})
	}
	for _, a := range []string{"x86_64", "aarch64", "s390x", "noarch"} {
		for _, b := range append([]string{name}, bins...) {
			src.Binaries[a] = append(src.Binaries[a], Binary{Name: b, Arch: a, EVR: "1-1",
				Provides: []Dep{{Name: b, Op: "=", EVR: "1-1"}}})
		}
	}
	return &Package{Name: name, Source: src}
}

func make3(pkgs ...*Package) *Plan {
	return Make(Input{Arches: []string{"x86_64", "aarch64", "s390x"}, Packages: pkgs, Host: provs{"gcc": {{Name: "gcc"}}}})
}

func TestArchSetsAndOrder(t *testing.T) {
	lib := pkg("libgreet", []string{"gcc"}, "libgreet-devel")
	app := pkg("greet", []string{"gcc", "libgreet-devel"})
	app.Source.ExcludeArch = []string{"s390x"}
	data := pkg("data", nil)
	data.Source.BuildArch = []string{"noarch"}
	only := pkg("probe", nil)
	only.Source.ExclusiveArch = []string{"aarch64", "ppc64le"}
	none := pkg("legacy", nil)
	none.Source.ExclusiveArch = []string{"ppc64le"}
	p := make3(lib, app, data, only, none)

	want := map[string]string{"libgreet": "x86_64 aarch64 s390x", "greet": "x86_64 aarch64", "data": "noarch", "probe": "aarch64", "legacy": ""}
	for _, pk := range p.Packages {
		if got := strings.Join(pk.Arches, " "); got != want[pk.Name] {
			t.Errorf("%s arches %q, want %q", pk.Name, got, want[pk.Name])
		}
	}
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].String(), "legacy: builds for no arch") {
		t.Errorf("problems: %v", p.Problems)
	}
	pos := map[string]int{}
	for i, j := range p.Jobs {
		pos[j.ID] = i
	}
	if pos["libgreet/aarch64"] > pos["greet/aarch64"] {
		t.Error("greet/aarch64 is ordered before the library it links")
	}
	g := p.Job("greet/aarch64")
	if strings.Join(g.Needs, " ") != "libgreet/aarch64" || len(g.Install) != 1 || g.Install[0].Binary != "libgreet-devel" {
		t.Errorf("greet/aarch64 needs %v, installs %v", g.Needs, g.Install)
	}
	if d := p.Job("data/noarch"); d == nil || d.BuildArch != "x86_64" {
		t.Errorf("noarch job: %+v", d)
	}
	if len(p.CriticalPath) != 2 || p.CriticalPath[1] != "greet/"+strings.TrimPrefix(p.CriticalPath[0], "libgreet/") {
		t.Errorf("critical path %v", p.CriticalPath)
	}
}

func TestMissingBuildRequiresBlocksDependents(t *testing.T) {
	lib := pkg("libgreet", []string{"gcc", "libfrob-devel >= 2"}, "libgreet-devel")
	lib.Source.BuildRequires[1] = Dep{Name: "libfrob-devel", Op: ">=", EVR: "2"}
	app := pkg("greet", []string{"libgreet-devel"})
	other := pkg("banner", []string{"gcc"})
	p := make3(lib, app, other)
	b := p.Blocked["libgreet/x86_64"]
	if b == nil || !strings.Contains(b.Reason, "BuildRequires libfrob-devel >= 2: nothing in the batch (for x86_64) or on the build host provides it") {
		t.Fatalf("libgreet/x86_64 blocked by %v", b)
	}
	if b := p.Blocked["greet/s390x"]; b == nil || !strings.Contains(b.Reason, "needs libgreet/s390x") {
		t.Errorf("greet/s390x blocked by %v", b)
	}
	if p.Blocked["banner/x86_64"] != nil {
		t.Error("an independent package is blocked")
	}
}

func TestCycleIsNamed(t *testing.T) {
	a := pkg("a", []string{"b"})
	b := pkg("b", []string{"c"})
	c := pkg("c", []string{"a"})
	p := make3(a, b, c)
	pr := p.Blocked["a/x86_64"]
	if pr == nil || !strings.Contains(pr.Reason, "build dependency cycle: a/x86_64 → b/x86_64 → c/x86_64 → a/x86_64") {
		t.Fatalf("a/x86_64: %v", pr)
	}
}

func TestExclusiveArchDependencyIsExplained(t *testing.T) {
	lib := pkg("libcpu", nil, "libcpu-devel")
	lib.Source.ExclusiveArch = []string{"x86_64"}
	app := pkg("tool", []string{"libcpu-devel"})
	p := make3(lib, app)
	if b := p.Blocked["tool/aarch64"]; b == nil || !strings.Contains(b.Reason, "the batch provides it for x86_64 only") {
		t.Fatalf("tool/aarch64: %v", b)
	}
	if p.Blocked["tool/x86_64"] != nil {
		t.Error("tool/x86_64 blocked")
	}
}

// TestSIGsNeverFeedTheCore: a SIG package builds against the core and its
// own SIG; a core package never builds against a SIG's, nor a SIG against
// another SIG's.
func TestSIGsNeverFeedTheCore(t *testing.T) {
	lib := pkg("libgreet", nil, "libgreet-devel")
	core := pkg("greet", []string{"libgreet-devel", "hpc-devel"})
	hpcLib := pkg("hpc-lib", []string{"libgreet-devel"}, "hpc-devel")
	hpcLib.Owner = "hpc"
	hpcApp := pkg("hpc-app", []string{"hpc-devel"})
	hpcApp.Owner = "hpc"
	other := pkg("cloud-app", []string{"hpc-devel"})
	other.Owner = "cloud"
	p := make3(lib, core, hpcLib, hpcApp, other)
	if b := p.Blocked["greet/x86_64"]; b == nil || !strings.Contains(b.Reason, "BuildRequires hpc-devel: nothing in the batch") {
		t.Errorf("the core built against a SIG: %+v", b)
	}
	if got := strings.Join(p.Job("hpc-lib/x86_64").Needs, " "); got != "libgreet/x86_64" {
		t.Errorf("hpc-lib needs %q", got)
	}
	if got := strings.Join(p.Job("hpc-app/x86_64").Needs, " "); got != "hpc-lib/x86_64" {
		t.Errorf("hpc-app needs %q", got)
	}
	if p.Blocked["cloud-app/x86_64"] == nil {
		t.Error("one SIG built against another's package")
	}
}

// A core package whose spec (or debranding) takes another core package's
// name, in any case, would replace it in the repositories: both are
// blocked, each naming the other.
func TestClashingNamesBlockBoth(t *testing.T) {
	greet := pkg("greet", nil, "greet", "libgreet")
	evil := pkg("evil", nil, "Greet")
	evil.Source.Header = "evil"
	greet.Source.Header = "greet"
	other := pkg("other", nil, "other")
	other.Source.Header = "other"
	p := make3(greet, evil, other)
	for _, j := range []string{"greet/x86_64", "evil/x86_64"} {
		if p.Blocked[j] == nil {
			t.Errorf("%s is not blocked: %v", j, p.Problems)
		}
	}
	if p.Blocked["other/x86_64"] != nil {
		t.Errorf("other is blocked: %v", p.Blocked["other/x86_64"])
	}
	want := map[string]string{"evil": "binary package Greet, which greet also makes", "greet": "binary package greet, which evil also makes"}
	for _, pr := range p.Problems {
		if w, ok := want[pr.Package]; ok && strings.Contains(pr.Reason, w) {
			delete(want, pr.Package)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing problems %v in %v", want, p.Problems)
	}
}
