package build

import (
	"os"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// CheckOutputs: what another machine says it built is checked against
// the RPMs themselves, as the local executor's own are.
func TestCheckOutputs(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	rpms, err := fixtures.BuildSpec(t.TempDir(), "hello", helloSpec)
	if err != nil || len(rpms) != 1 {
		t.Fatalf("%v %v", rpms, err)
	}
	data, _ := os.ReadFile(rpms[0])
	d, _ := st.Put(data)
	job := &Job{ID: "hello/noarch", Package: "hello", Arch: "noarch"}
	good := Output{File: "hello-1.0-1.noarch.rpm", SHA256: d, Name: "hello", Arch: "noarch", EVR: "1.0-1"}
	if err := CheckOutputs(st, job, []Output{good}); err != nil {
		t.Fatalf("a true output: %v", err)
	}
	for name, c := range map[string]struct {
		outs []Output
		want string
	}{
		"none":         {nil, "wrote no RPM"},
		"other name":   {[]Output{with(good, func(o *Output) { o.Name = "glibc" })}, "the record says glibc"},
		"other EVR":    {[]Output{with(good, func(o *Output) { o.EVR = "9:9-9" })}, "its header hello noarch 1.0-1"},
		"path":         {[]Output{with(good, func(o *Output) { o.File = "../../etc/x.rpm" })}, "not a plain RPM file name"},
		"newline":      {[]Output{with(good, func(o *Output) { o.File = "a\nb.rpm" })}, "not a plain RPM file name"},
		"twice":        {[]Output{good, good}, "not a plain RPM file name, once"},
		"not in store": {[]Output{with(good, func(o *Output) { o.SHA256 = strings.Repeat("0", 64) })}, "not in the store"},
	} {
		err := CheckOutputs(st, job, c.outs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	notRPM, _ := st.Put([]byte("not an rpm"))
	if err := CheckOutputs(st, job, []Output{with(good, func(o *Output) { o.SHA256 = notRPM })}); err == nil {
		t.Error("a blob that is no RPM passed")
	}
}

const helloSpec = `Name: hello
Version: 1.0
Release: 1
Summary: Says hello
License: MIT
BuildArch: noarch
%description
Says hello.
%install
mkdir -p %{buildroot}/usr/share/hello
echo hello > %{buildroot}/usr/share/hello/README
%files
/usr/share/hello/README
`

func with(o Output, f func(*Output)) Output { f(&o); return o }
