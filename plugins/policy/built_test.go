package policy

import (
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/readback"
)

func dir(p string) readback.File     { return readback.File{Path: p, Kind: readback.Dir} }
func file(p string) readback.File    { return readback.File{Path: p, Kind: readback.Regular} }
func link(p, t string) readback.File { return readback.File{Path: p, Kind: readback.Symlink, Link: t} }
func provides(names ...string) []plan.Dep {
	var out []plan.Dep
	for _, n := range names {
		out = append(out, plan.Dep{Name: n})
	}
	return out
}

// exampleCore is the example distribution's core as the gate sees it.
func exampleCore() *readback.Index {
	return readback.NewIndex([]*readback.RPM{
		{Name: "filesystem", Files: []readback.File{dir("/usr"), dir("/usr/bin"), dir("/usr/lib64"), dir("/etc"), dir("/etc/yum.repos.d"), dir("/usr/share/licenses")}},
		{Name: "greet", Provides: provides("greet", "greet(x86-64)"), Files: []readback.File{file("/usr/bin/greet"), dir("/usr/share/licenses/greet")}},
		{Name: "banner", Provides: provides("banner"), Files: []readback.File{file("/usr/bin/banner")}},
		{Name: "libgreet", Provides: provides("libgreet", "libgreet.so.1()(64bit)"), Files: []readback.File{link("/usr/lib64/libgreet.so.1", "libgreet.so.1.2"), file("/usr/lib64/libgreet.so.1.2")}},
		{Name: "pebble-release", Provides: provides("pebble-release", "config(pebble-release)", "system-release"),
			Files: []readback.File{file("/etc/yum.repos.d/pebble.repo"), file("/etc/pki/rpm-gpg/RPM-GPG-KEY-pebble"), link("/etc/os-release", "../usr/lib/os-release")}},
		{Name: "kernel-core", Provides: provides("kernel-core", "installonlypkg(kernel)", "kernel-uname-r"), Files: []readback.File{file("/boot/vmlinuz-5.14.0-427.pbl9.x86_64")}},
		{Name: "kernel", Provides: provides("kernel")},
		{Name: "389-ds-base", Provides: provides("389-ds-base")},
	}, "summit-release")
}

func sigRPM(name string, edit func(*readback.RPM)) *readback.RPM {
	r := &readback.RPM{File: name + "-1.0-1.pbl9.x86_64.rpm", Name: name, Package: name, Arch: "x86_64", Provides: provides(name, name+"(x86-64)"),
		Files: []readback.File{dir("/usr/bin"), file("/usr/bin/" + name)}}
	if edit != nil {
		edit(r)
	}
	return r
}

func builtCtx() Built {
	return Built{Core: exampleCore(), Flavours: map[string]string{"kernel-mainline": "mainline"}, Release: "pebble-release-hpc",
		ReleasePaths: []string{"/etc/yum.repos.d/pebble-sig-hpc.repo", "/etc/pki/rpm-gpg/RPM-GPG-KEY-pebble-sig-hpc"}}
}

// TestBuiltRulesBite: one RPM per attack, each refused with the SIG, the
// RPM file, the item and the rule.
func TestBuiltRulesBite(t *testing.T) {
	g := &Gate{SIG: "hpc", Distro: "pebble"}
	cases := []struct {
		name string
		rpm  *readback.RPM
		want string
	}{
		{"name in another case", sigRPM("Banner", nil), "sig hpc: rpm Banner-1.0-1.pbl9.x86_64.rpm: no-core-name: its name Banner is core package banner's"},
		{"source name", sigRPM("Summit-Release", nil), "no-core-name: its name Summit-Release is core package summit-release's"},
		{"soname", sigRPM("tools", func(r *readback.RPM) { r.Provides = append(r.Provides, plan.Dep{Name: "libgreet.so.1()(64bit)"}) }),
			"sig hpc: rpm tools-1.0-1.pbl9.x86_64.rpm: no-core-provides: Provides: libgreet.so.1()(64bit), which core package libgreet provides"},
		{"file path", sigRPM("tools", func(r *readback.RPM) { r.Provides = append(r.Provides, plan.Dep{Name: "/usr/bin/greet"}) }),
			"no-core-provides: Provides: /usr/bin/greet, a path core package greet owns"},
		{"file path through /bin", sigRPM("tools", func(r *readback.RPM) { r.Provides = append(r.Provides, plan.Dep{Name: "/bin/greet"}) }),
			"no-core-provides: Provides: /bin/greet, a path core package greet owns"},
		{"rich conflicts", sigRPM("tools", func(r *readback.RPM) { r.Conflicts = append(r.Conflicts, plan.Dep{Name: "(banner or sig-x)"}) }),
			"no-core-conflicts: Conflicts: (banner or sig-x), the name of core package banner"},
		{"supplements of a digit-leading name", sigRPM("tools", func(r *readback.RPM) {
			r.Supplements = append(r.Supplements, plan.Dep{Name: "(389-ds-base and sig-x >= 2)"})
		}), "no-core-supplements: Supplements: (389-ds-base and sig-x >= 2), the name of core package 389-ds-base"},
		{"supplements", sigRPM("tools", func(r *readback.RPM) { r.Supplements = append(r.Supplements, plan.Dep{Name: "banner"}) }),
			"no-core-supplements: Supplements: banner, the name of core package banner"},
		{"rich enhances", sigRPM("tools", func(r *readback.RPM) {
			r.Enhances = append(r.Enhances, plan.Dep{Name: "(sig-thing and (pebble-release >= 9 or nothing))"})
		}), "no-core-supplements: Enhances: (sig-thing and (pebble-release >= 9 or nothing)), the name of core package pebble-release"},
		{"config()", sigRPM("tools", func(r *readback.RPM) { r.Provides = append(r.Provides, plan.Dep{Name: "config(pebble-release)"}) }),
			"no-core-provides: Provides: config(pebble-release), which core package pebble-release provides"},
		{"core name in another case", sigRPM("tools", func(r *readback.RPM) { r.Provides = append(r.Provides, plan.Dep{Name: "GREET", Op: "=", EVR: "9"}) }),
			"no-core-provides: Provides: GREET = 9, the name of core package greet"},
		{"kernel outside a flavour", sigRPM("tools", func(r *readback.RPM) { r.Provides = append(r.Provides, plan.Dep{Name: "kernel-uname-r"}) }),
			"no-core-provides: Provides: kernel-uname-r, which core package kernel-core provides"},
		{"obsoletes", sigRPM("tools", func(r *readback.RPM) { r.Obsoletes = []plan.Dep{{Name: "Greet", Op: "<", EVR: "99"}} }),
			"no-core-obsoletes: Obsoletes: Greet < 99, the name of core package greet: a SIG never replaces the core"},
		{"conflicts with a name", sigRPM("tools", func(r *readback.RPM) { r.Conflicts = []plan.Dep{{Name: "banner"}} }),
			"no-core-conflicts: Conflicts: banner, the name of core package banner: a SIG never pushes the core out"},
		{"conflicts with a soname", sigRPM("tools", func(r *readback.RPM) { r.Conflicts = []plan.Dep{{Name: "libgreet.so.1()(64bit)"}} }),
			"no-core-conflicts: Conflicts: libgreet.so.1()(64bit), which core package libgreet provides"},
		{"a core file", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, file("/usr/bin/greet")) }),
			"sig hpc: rpm tools-1.0-1.pbl9.x86_64.rpm: no-core-files: file /usr/bin/greet, which core package greet owns (file)"},
		{"a core file through /bin", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, file("/bin/banner")) }),
			"no-core-files: file /bin/banner (/usr/bin/banner), which core package banner owns (file)"},
		{"a folder where the core has a link", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, dir("/etc/os-release")) }),
			"no-core-files: dir /etc/os-release, which core package pebble-release owns (link)"},
		{"a core file through its own link", sigRPM("tools", func(r *readback.RPM) {
			r.Files = append(r.Files, link("/opt/tools/bin", "../../usr/bin"), file("/opt/tools/bin/greet"))
		}), "no-core-files: file /opt/tools/bin/greet (/usr/bin/greet), which core package greet owns (file)"},
		{"a .repo file", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, file("/etc/yum.repos.d/00-pebble-baseos.repo")) }),
			"sig hpc: rpm tools-1.0-1.pbl9.x86_64.rpm: no-package-manager-paths: file /etc/yum.repos.d/00-pebble-baseos.repo is under /etc/yum.repos.d: dnf's repository definitions"},
		{"a .repo file through yum's link", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, file("/etc/yum/repos.d/x.repo")) }),
			"no-package-manager-paths: file /etc/yum/repos.d/x.repo (/etc/yum.repos.d/x.repo) is under /etc/yum"},
		{"a .repo file through its own link", sigRPM("tools", func(r *readback.RPM) {
			r.Files = append(r.Files, link("/opt/tools/conf", "/etc/yum.repos.d"), file("/opt/tools/conf/x.repo"))
		}), "no-package-manager-paths: file /opt/tools/conf/x.repo (/etc/yum.repos.d/x.repo) is under /etc/yum.repos.d"},
		{"a key", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, file("/etc/pki/rpm-gpg/RPM-GPG-KEY-evil")) }),
			"no-package-manager-paths: file /etc/pki/rpm-gpg/RPM-GPG-KEY-evil is under /etc/pki/rpm-gpg"},
		{"rpm macros", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, file("/usr/lib/rpm/macros.d/macros.zz")) }),
			"no-package-manager-paths: file /usr/lib/rpm/macros.d/macros.zz is under /usr/lib/rpm"},
		{"rpm macros through /lib", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, file("/lib/rpm/macros.d/macros.zz")) }),
			"no-package-manager-paths: file /lib/rpm/macros.d/macros.zz (/usr/lib/rpm/macros.d/macros.zz) is under /usr/lib/rpm"},
		{"a dnf plugin", sigRPM("tools", func(r *readback.RPM) {
			r.Files = append(r.Files, file("/usr/lib/python3.9/site-packages/dnf-plugins/evil.py"))
		}),
			"no-package-manager-paths: file /usr/lib/python3.9/site-packages/dnf-plugins/evil.py is under /usr/lib/python3*/site-packages/dnf-plugins"},
		{"a trust anchor", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, file("/etc/pki/ca-trust/source/anchors/evil.pem")) }),
			"no-package-manager-paths: file /etc/pki/ca-trust/source/anchors/evil.pem is under /etc/pki/ca-trust"},
		{"the release package's file in another package", sigRPM("tools", func(r *readback.RPM) { r.Files = append(r.Files, file("/etc/yum.repos.d/pebble-sig-hpc.repo")) }),
			"no-package-manager-paths: file /etc/yum.repos.d/pebble-sig-hpc.repo"},
		{"a trigger", sigRPM("tools", func(r *readback.RPM) { r.Triggers = []string{"greet"} }),
			"sig hpc: rpm tools-1.0-1.pbl9.x86_64.rpm: no-core-triggers: a %trigger on greet, the name of core package greet"},
		{"a trigger in another case", sigRPM("tools", func(r *readback.RPM) { r.Triggers = []string{"Kernel"} }),
			"no-core-triggers: a %trigger on Kernel, the name of core package kernel"},
		{"a file trigger", sigRPM("tools", func(r *readback.RPM) { r.FileTriggers = []string{"/usr/bin"} }),
			"no-core-triggers: a file trigger on /usr/bin, which covers /usr/bin/banner (core package banner)"},
		{"a file trigger on everything", sigRPM("tools", func(r *readback.RPM) { r.FileTriggers = []string{"/"} }),
			"no-core-triggers: a file trigger on /, which covers /boot/vmlinuz-5.14.0-427.pbl9.x86_64 (core package kernel-core)"},
		{"a file trigger through /lib", sigRPM("tools", func(r *readback.RPM) { r.FileTriggers = []string{"/lib64/libgreet"} }),
			"no-core-triggers: a file trigger on /lib64/libgreet, which covers /usr/lib64/libgreet.so.1 (core package libgreet)"},
		{"a file trigger on dnf's paths", sigRPM("tools", func(r *readback.RPM) { r.FileTriggers = []string{"/etc/dnf/"} }),
			"no-core-triggers: a file trigger on /etc/dnf/, which covers /etc/dnf"},
	}
	for _, tc := range cases {
		got := g.Built([]*readback.RPM{tc.rpm}, builtCtx()).Error()
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestBuiltAllowsWhatSIGsDo: shared folders, its own files and Provides,
// an alternate kernel's kernel Provides, the release package's .repo
// file and key, a file trigger on its own paths.
func TestBuiltAllowsWhatSIGsDo(t *testing.T) {
	g := &Gate{SIG: "hpc", Distro: "pebble"}
	rpms := []*readback.RPM{
		sigRPM("minimpi-ompi", func(r *readback.RPM) {
			r.Provides = append(r.Provides, plan.Dep{Name: "libmpi.so.1()(64bit)"}, plan.Dep{Name: "config(minimpi-ompi)"})
			r.Files = append(r.Files, dir("/usr/share/licenses"), dir("/usr/share/licenses/minimpi-ompi"), dir("/usr/lib64"), link("/usr/lib64/libmpi.so", "libmpi.so.1"))
			r.FileTriggers = []string{"/usr/share/modulefiles/"}
			r.Triggers = []string{"minimpi-mpich"}
		}),
		sigRPM("kernel-mainline-core", func(r *readback.RPM) {
			r.Package = "kernel-mainline"
			r.Provides = append(r.Provides, provides("kernel", "kernel-uname-r", "installonlypkg(kernel)")...)
			r.Files = []readback.File{file("/boot/vmlinuz-6.12.1-1.pbl9.mainline.x86_64"), dir("/lib/modules/6.12.1-1.pbl9.mainline.x86_64")}
		}),
		{File: "pebble-release-hpc-9.4-1.0.0.pbl9.noarch.rpm", Name: "pebble-release-hpc", Package: "pebble-release-hpc", Arch: "noarch",
			Provides: provides("pebble-release-hpc", "config(pebble-release-hpc)"),
			Files:    []readback.File{file("/etc/yum.repos.d/pebble-sig-hpc.repo"), file("/etc/pki/rpm-gpg/RPM-GPG-KEY-pebble-sig-hpc")}},
	}
	if vs := g.Built(rpms, builtCtx()); len(vs) > 0 {
		t.Errorf("what SIGs do is refused:\n%v", vs)
	}
}

// TestManagerPathsAreCanonical: each path is where it lands on a system
// (files are matched after their links are followed), and says why.
func TestManagerPathsAreCanonical(t *testing.T) {
	for _, mp := range ManagerPaths {
		if got := readback.Canonical(mp.Pattern, readback.FilesystemLinks); got != mp.Pattern || mp.Why == "" {
			t.Errorf("%s: canonical %s, why %q", mp.Pattern, got, mp.Why)
		}
	}
	for prefix, want := range map[string]string{"/etc": "/etc/yum.repos.d", "/usr/lib/python3": "/usr/lib/python3*/site-packages/dnf", "/etc/dnf/plugins/": "/etc/dnf", "/usr/share/modulefiles": ""} {
		got := ""
		if mp := managerPathUnder(prefix); mp != nil {
			got = mp.Pattern
		}
		if got != want {
			t.Errorf("a file trigger on %s covers %q, want %q", prefix, got, want)
		}
	}
}
