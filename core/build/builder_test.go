package build

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/toolchain"
)

// stub runs jobs without rpmbuild: the scheduler and cache are under test.
type stub struct {
	store *store.Store
	fail  map[string]bool
	mu    sync.Mutex
	ran   []string
}

func (s *stub) Run(ctx context.Context, job *Job, _ io.Writer) (*Record, error) {
	s.mu.Lock()
	s.ran = append(s.ran, job.ID)
	s.mu.Unlock()
	if s.fail[job.ID] {
		return nil, &Error{Job: job.ID, Msg: "rpmbuild failed", Tail: "error: intentional"}
	}
	d, _ := s.store.Put([]byte(job.ID + job.SRPM.SHA256))
	return &Record{Key: job.Key(), Job: *job, Start: time.Now(), End: time.Now(),
		Outputs: []Output{{File: job.Package + ".rpm", SHA256: d, Name: job.Package, Arch: job.Arch}}}, nil
}

type hostless struct{}

func (hostless) Provides(string) []plan.Dep { return nil }

func testPlan(st *store.Store, srpmOf map[string]string, br map[string]string) *plan.Plan {
	var pkgs []*plan.Package
	for _, name := range []string{"lib", "app", "tool", "other"} {
		d, _ := st.Put([]byte(srpmOf[name] + name))
		src := &plan.Source{Name: name, File: name + ".src.rpm", SRPM: d, Binaries: map[string][]plan.Binary{}}
		if r := br[name]; r != "" {
			src.BuildRequires = []plan.Dep{{Name: r}}
		}
		for _, a := range []string{"x86_64", "aarch64", "noarch"} {
			src.Binaries[a] = []plan.Binary{{Name: name, Arch: a, EVR: "1-1", Provides: []plan.Dep{{Name: name}}}}
		}
		pkgs = append(pkgs, &plan.Package{Name: name, Source: src})
	}
	return plan.Make(plan.Input{Arches: []string{"x86_64", "aarch64"}, Packages: pkgs, Host: hostless{}})
}

func envs() map[string]toolchain.Env {
	return map[string]toolchain.Env{"x86_64": {Arch: "x86_64"}, "aarch64": {Arch: "aarch64"}}
}

func TestFailureSkipsDependentsOnly(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	deps := map[string]string{"app": "lib", "tool": "app"}
	p := testPlan(st, map[string]string{}, deps)
	ex := &stub{store: st, fail: map[string]bool{"lib/aarch64": true}}
	b := &Builder{Plan: p, Envs: envs(), Cache: &Cache{Dir: filepath.Join(t.TempDir(), "b"), Store: st}, Exec: ex, Jobs: 2}
	res, err := b.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"lib/aarch64": Failed, "app/aarch64": Skipped, "tool/aarch64": Skipped,
		"lib/x86_64": Built, "app/x86_64": Built, "tool/x86_64": Built, "other/x86_64": Built, "other/aarch64": Built}
	for id, st := range want {
		if res.Status[id] != st {
			t.Errorf("%s: %s, want %s", id, res.Status[id], st)
		}
	}
	if e := res.Errors["tool/aarch64"]; e == nil || !strings.Contains(e.Error(), "needs app/aarch64, which was skipped") {
		t.Errorf("tool/aarch64: %v", e)
	}
	var be *Error
	if err := res.Err(); !errors.As(err, &be) || !strings.Contains(err.Error(), "error: intentional") {
		t.Errorf("Err() = %v", err)
	}

	// Second run: what built is cached, the failure runs again.
	ex.ran = nil
	res, _ = b.Run(context.Background())
	if strings.Join(ex.ran, " ") != "lib/aarch64" || res.Status["tool/x86_64"] != Cached {
		t.Errorf("second run ran %v; tool/x86_64 %s", ex.ran, res.Status["tool/x86_64"])
	}
}

func TestFailFastStops(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	p := testPlan(st, map[string]string{}, map[string]string{"app": "lib", "tool": "app"})
	first := p.Jobs[0].ID
	ex := &stub{store: st, fail: map[string]bool{first: true}}
	b := &Builder{Plan: p, Envs: envs(), Cache: &Cache{Dir: filepath.Join(t.TempDir(), "b"), Store: st}, Exec: ex, Jobs: 1, FailFast: true}
	res, err := b.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.ran) != 1 || res.Status[first] != Failed {
		t.Fatalf("ran %v; %s is %s", ex.ran, first, res.Status[first])
	}
	for id, s := range res.Status {
		if id != first && s != Skipped {
			t.Errorf("%s: %s after --fail-fast", id, s)
		}
	}
}

func TestExplainNamesTheChange(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	cache := &Cache{Dir: filepath.Join(t.TempDir(), "b"), Store: st}
	deps := map[string]string{"app": "lib"}
	p := testPlan(st, map[string]string{}, deps)
	b := &Builder{Plan: p, Envs: envs(), Cache: cache, Exec: &stub{store: st}, Jobs: 2}
	if _, err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	why := Explain(p, envs(), nil, cache)
	if !strings.HasPrefix(why["app/x86_64"], "cached: ") {
		t.Errorf("app/x86_64: %s", why["app/x86_64"])
	}
	changed := testPlan(st, map[string]string{"lib": "v2"}, deps)
	why = Explain(changed, envs(), nil, cache)
	if !strings.Contains(why["lib/x86_64"], "will run: the SRPM changed") {
		t.Errorf("lib/x86_64: %s", why["lib/x86_64"])
	}
	if why["app/x86_64"] != "will run: its buildroot changes, since lib/x86_64 will run first" {
		t.Errorf("app/x86_64: %s", why["app/x86_64"])
	}
	if !strings.HasPrefix(why["other/x86_64"], "cached: ") {
		t.Errorf("other/x86_64: %s", why["other/x86_64"])
	}
}

// TestKeyTakesTheBuildrootImage: in a buildroot, the job's key is its
// inputs and the image's digest, and nothing of the machine it is
// computed on (the host's tools are not asked); another image is another
// key, and Explain says so.
func TestKeyTakesTheBuildrootImage(t *testing.T) {
	d := config.Distribution{Name: "pebble", Version: "9.4", DistTag: ".pbl9"}
	a := toolchain.RootEnv(d, "aarch64", "x86_64", "sha256:"+strings.Repeat("a", 64))
	if a.Toolchain != "" || a.RPMRC != "" {
		t.Fatalf("a buildroot Env names host tools: %+v", a)
	}
	job := func(e toolchain.Env) *Job {
		return &Job{ID: "p/aarch64", Arch: "aarch64", SRPM: Input{Name: "p.src.rpm", SHA256: "00"}, Env: e}
	}
	if job(a).Key() != job(toolchain.RootEnv(d, "aarch64", "x86_64", a.Buildroot)).Key() {
		t.Fatal("the same inputs give two keys")
	}
	b := toolchain.RootEnv(d, "aarch64", "x86_64", "sha256:"+strings.Repeat("b", 64))
	if job(a).Key() == job(b).Key() {
		t.Fatal("another image gives the same key")
	}
	if why := diff(job(a), job(b)); why != "the buildroot image changed (sha256:aaaaaaaaaaaa → sha256:bbbbbbbbbbbb)" {
		t.Fatalf("diff: %s", why)
	}
	// noarch builds in the build arch's root, and says so.
	n := toolchain.RootEnv(d, "noarch", "x86_64", a.Buildroot)
	if n.Build != "x86_64" || !slices.Contains(n.RPMArgs(), "x86_64") || !slices.Contains(n.RPMArgs(), "dist .pbl9") {
		t.Fatalf("noarch: %+v %q", n, n.RPMArgs())
	}
}
