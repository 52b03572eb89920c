package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/toolchain"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

const stableSpec = `Name: stable
Version: 1.0
Release: 1%{?dist}
Summary: Builds to the same bytes every time
License: MIT
BuildArch: noarch
%description
Stable.
%install
mkdir -p %{buildroot}/usr/share/stable
echo same > %{buildroot}/usr/share/stable/data
%files
/usr/share/stable/data
%changelog
* Mon Jan 01 2024 Q <q@example> - 1.0-1
- first
`

// unstable writes the time of the build into a file: no two builds agree.
var unstableSpec = strings.NewReplacer("stable", "unstable", "echo same", "date +%%N").Replace(stableSpec)

// TestReproduceComparesRebuilds: the real rpmbuild in the sandbox, twice;
// a package that embeds the build time is caught, named with what
// differs, and a clean one is not.
func TestReproduceComparesRebuilds(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env, err := toolchain.NewEnv(config.Distribution{Name: "pebble", DistTag: ".pbl9", Version: "9.4"}, "noarch")
	if err != nil {
		t.Fatal(err)
	}
	exec := &Local{Store: st, Work: filepath.Join(t.TempDir(), "work")}
	var recs []*Record
	for name, spec := range map[string]string{"stable": stableSpec, "unstable": unstableSpec} {
		srpm, err := fixtures.BuildSRPM(t.TempDir(), name, spec)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(srpm)
		d, _ := st.Put(data)
		job := &Job{ID: name + "/noarch", Package: name, Arch: "noarch", SRPM: Input{Name: filepath.Base(srpm), SHA256: d}, Env: env}
		rec, err := exec.Run(context.Background(), job, nil)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	var seen []string
	rep, err := Reproduce(context.Background(), exec, st, recs, 2, func(job string, same bool) { seen = append(seen, job) })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Jobs != 2 || rep.SameJobs != 1 || rep.RPMs != 2 || rep.SameRPMs != 1 || len(seen) != 2 || rep.Reproducible() {
		t.Fatalf("report %+v (seen %v)", rep, seen)
	}
	m := rep.Mismatches[0]
	msg := m.String()
	if m.Job != "unstable/noarch" || !strings.HasPrefix(m.File, "unstable-1.0-1.pbl9.noarch") || !m.Payload ||
		!strings.Contains(msg, "FILEDIGESTS") || strings.Contains(msg, "BUILDTIME") {
		t.Errorf("mismatch: %s", msg)
	}
}
