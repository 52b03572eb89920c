package policy

import (
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/sdk"
)

func gate() *Gate {
	return &Gate{SIG: "hpc", Distro: "pebble", Core: Core{Names: map[string]bool{"kernel": true, "greet": true, "libgreet": true}},
		Limits: Limits{PackageBytes: 100, SIGBytes: 150}}
}

var repos = []sdk.Repo{{ID: "extras"}}

func spec(name string) []sdk.File {
	return []sdk.File{{Path: name + ".spec", Data: []byte("Name: " + name)}}
}

// TestEachRuleBites: one bad item per rule, each named in its violation,
// and a good one passes.
func TestEachRuleBites(t *testing.T) {
	g := gate()
	cases := []struct {
		name string
		vs   Violations
		want string
	}{
		{"core name", g.Packages([]sdk.Package{{Name: "greet", Repo: "extras", Spec: "greet.spec", Files: spec("greet")}}, repos),
			"sig hpc: package greet: no-core-name: greet is a core package"},
		{"core name in another case", g.Packages([]sdk.Package{{Name: "Greet", Repo: "extras", Spec: "Greet.spec", Files: spec("Greet")}}, repos),
			"sig hpc: package Greet: no-core-name: Greet is a core package (greet: names are compared without case)"},
		{"conflicts", g.Binaries("hpc-tools", []plan.Binary{{Name: "hpc-tools", Conflicts: []plan.Dep{{Name: "LibGreet"}}}}, ""),
			"package hpc-tools: no-core-conflicts: Conflicts: LibGreet, a core package"},
		{"subpackage in another case", g.Binaries("hpc-tools", []plan.Binary{{Name: "hpc-tools"}, {Name: "KERNEL"}}, ""),
			"package hpc-tools (subpackage KERNEL): no-core-name: KERNEL is a core package (kernel: names"},
		{"dotdot", g.Packages([]sdk.Package{{Name: "x", Repo: "extras", Spec: "x.spec", Files: append(spec("x"), sdk.File{Path: "../../etc/passwd"})}}, repos),
			`sig hpc: package x: relative-paths: file "../../etc/passwd": climbs out of the package (..)`},
		{"absolute", g.Packages([]sdk.Package{{Name: "x", Repo: "extras", Spec: "x.spec", Files: append(spec("x"), sdk.File{Path: "/etc/passwd"})}}, repos),
			`file "/etc/passwd": absolute path`},
		{"sub dotdot", g.Packages([]sdk.Package{{Name: "x", Repo: "extras", Spec: "x.spec", Files: append(spec("x"), sdk.File{Path: "a/../../b"})}}, repos),
			`file "a/../../b": not a clean path`},
		{"unknown repo", g.Packages([]sdk.Package{{Name: "x", Repo: "nope", Spec: "x.spec", Files: spec("x")}}, repos),
			`repo-namespace: goes to repository "nope"`},
		{"too big", g.Packages([]sdk.Package{{Name: "x", Repo: "extras", Spec: "x.spec", Files: append(spec("x"), sdk.File{Path: "big", Data: make([]byte, 200)})}}, repos),
			"size-limit: 207 bytes of sources, over the limit of 100"},
		{"bad repo id", g.Repos([]sdk.Repo{{ID: "../Extras"}}, []string{"x86_64"}), `repo ../Extras: repo-namespace: id "../Extras" must be`},
		{"kernel not renamed", g.Kernels([]sdk.Kernel{{Flavour: "ml", Package: sdk.Package{Name: "kernel", Repo: "extras", Spec: "kernel.spec", Files: spec("kernel")}}}, repos, []string{"x86_64"}),
			"kernel ml: kernel-flavour: its package is kernel; an alternate kernel is named kernel-ml"},
		{"obsoletes", g.Binaries("hpc-tools", []plan.Binary{{Name: "hpc-tools", Obsoletes: []plan.Dep{{Name: "libgreet", Op: "<", EVR: "99"}}}}, ""),
			"package hpc-tools: no-core-obsoletes: Obsoletes: libgreet < 99, a core package"},
		{"provides", g.Binaries("hpc-tools", []plan.Binary{{Name: "hpc-tools", Provides: []plan.Dep{{Name: "greet"}}}}, ""),
			"no-core-provides: Provides: greet, a core package"},
		{"subpackage shadows", g.Binaries("hpc-tools", []plan.Binary{{Name: "hpc-tools"}, {Name: "libgreet"}}, ""),
			"package hpc-tools (subpackage libgreet): no-core-name: libgreet is a core package"},
		{"kernel subpackage not renamed", g.Binaries("kernel-ml", []plan.Binary{{Name: "kernel-ml"}, {Name: "perf"}}, "ml"),
			"kernel-flavour: every package of an alternate kernel is named kernel-ml*, not perf"},
	}
	for _, tc := range cases {
		if got := tc.vs.Error(); !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	ok := g.Packages([]sdk.Package{{Name: "hpc-tools", Repo: "extras", Spec: "hpc-tools.spec", Files: spec("hpc-tools")}}, repos)
	ok = append(ok, g.Binaries("kernel-ml", []plan.Binary{{Name: "kernel-ml", Provides: []plan.Dep{{Name: "kernel", Op: "=", EVR: "6.6"}, {Name: "installonlypkg(kernel)"}}}, {Name: "kernel-ml-core"}}, "ml")...)
	if len(ok) > 0 {
		t.Errorf("good items fail: %v", ok)
	}
}

// Installer names become files under images/<sig>/: nothing else.
func TestInstallerNames(t *testing.T) {
	g := &Gate{SIG: "cloud", Limits: DefaultLimits}
	vs := g.Installers([]sdk.Installer{
		{Name: "generic", Kind: sdk.Kickstart},
		{Name: "../../keys/x", Kind: sdk.Kickstart},
		{Name: "generic", Kind: sdk.Kickstart},
		{Name: "odd", Kind: "script"},
	})
	want := []string{`installer ../../keys/x: installer-names: name "../../keys/x"`, "installer generic: no-duplicates", `installer odd: installer-names: unknown kind "script"`}
	if len(vs) != len(want) {
		t.Fatalf("%v", vs)
	}
	for i, w := range want {
		if !strings.Contains(vs[i].Error(), w) {
			t.Errorf("%q, want %q", vs[i].Error(), w)
		}
	}
	for _, bad := range []string{"..", ".", "../x.tar", "a/b", ".hidden", "x..y"} {
		if g.Artifact("image", bad) == nil {
			t.Errorf("artifact %q accepted", bad)
		}
	}
	if err := g.Artifact("image", "pebble-cloud-9.4.x86_64.oci.tar"); err != nil {
		t.Error(err)
	}
}

// The host fetches a SIG's git sources with its own network and files:
// only from what the config lists for the SIG, at a full commit.
func TestGitSources(t *testing.T) {
	commit := strings.Repeat("a", 40)
	g := &Gate{SIG: "hpc", Distro: "pebble", Limits: DefaultLimits, GitSources: []string{"https://git.example/sig-hpc/", "file:///srv/hpc.git"}}
	repos := []sdk.Repo{{ID: "extras"}}
	pkg := func(url, rev, dir string) []sdk.Package {
		return []sdk.Package{{Name: "mpi", Repo: "extras", Spec: "mpi.spec", Git: &sdk.GitSource{URL: url, Commit: rev, Dir: dir}}}
	}
	for _, ok := range [][2]string{{"https://git.example/sig-hpc/mpi.git", commit}, {"file:///srv/hpc.git", strings.Repeat("0", 64)}} {
		if vs := g.Packages(pkg(ok[0], ok[1], "pkgs/mpi"), repos); len(vs) > 0 {
			t.Errorf("%s: %v", ok[0], vs)
		}
	}
	for _, bad := range []struct{ url, rev, dir, want string }{
		{"/etc", commit, "", "only https://"},
		{"ssh://git.example/sig-hpc/mpi.git", commit, "", "only https://"},
		{"https://git.example/sig-hpcx/mpi.git", commit, "", "not in sigs[hpc].git_sources"},
		{"https://user:pw@git.example/sig-hpc/mpi.git", commit, "", "without credentials"},
		{"https://git.example/sig-hpc/../other.git", commit, "", "without credentials, query, percent-encoding or .."},
		{"file:///srv/hpc.git/../../etc", commit, "", "without credentials, query, percent-encoding or .."},
		{"file:///srv/hpc.git/%2e%2e/%2e%2e/root/x.git", commit, "", "percent-encoding"},
		{"https://git.example/sig-hpc//mpi.git", commit, "", "only https://"},
		{"https://git.example/sig-hpc/mpi.git", "HEAD", "", `commit "HEAD" must be a full commit id`},
		{"https://git.example/sig-hpc/mpi.git", "main", "", `commit "main" must be a full commit id`},
		{"https://git.example/sig-hpc/mpi.git", commit, "../x", `folder "../x"`},
	} {
		vs := g.Packages(pkg(bad.url, bad.rev, bad.dir), repos)
		if !strings.Contains(vs.Error(), "git-sources") || !strings.Contains(vs.Error(), bad.want) {
			t.Errorf("%s %s: %v\nwant %q", bad.url, bad.rev, vs, bad.want)
		}
	}
	none := &Gate{SIG: "kernel", Limits: DefaultLimits}
	if vs := none.Packages(pkg("https://git.example/sig-hpc/mpi.git", commit, ""), repos); !strings.Contains(vs.Error(), "none are listed") {
		t.Errorf("no sources listed: %v", vs)
	}
}

// A SIG repository's name is a line of the .repo file the core signs:
// it cannot carry lines of its own, or dnf's variables.
func TestRepoNamesAreOneLine(t *testing.T) {
	g := &Gate{SIG: "hpc", Distro: "pebble"}
	vs := g.Repos([]sdk.Repo{
		{ID: "extras", Name: "Extras\n[pebble-baseos]\nbaseurl=https://evil.example/\ngpgcheck=0"},
		{ID: "tools", Name: "Tools $releasever"},
		{ID: "ok", Name: "HPC stacks", Description: "MPI and schedulers"},
	}, []string{"x86_64"})
	if len(vs) != 2 || !strings.Contains(vs[0].Error(), "repo extras: valid-names: its name contains the control character U+000A") ||
		!strings.Contains(vs[1].Error(), "repo tools: valid-names: its name contains $ or %") {
		t.Errorf("%v", vs)
	}
}
