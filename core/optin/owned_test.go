package optin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// releaseSpec is a SIG release package as the core builds them: the
// SIG's .repo file (%config(noreplace)) and key.
const releaseSpec = `Name: t-release-alpha
Version: 1
Release: 1
Summary: the alpha SIG's repositories
License: MIT
BuildArch: noarch
%description
The alpha SIG's .repo file and key.
%install
mkdir -p %{buildroot}/etc/yum.repos.d %{buildroot}/etc/pki/rpm-gpg
printf '[t-sig-alpha-extras]\nname=Extras\nbaseurl=file:///srv/t/sig/alpha/extras/$basearch/\nenabled=1\ngpgcheck=1\n\n[t-sig-alpha-testing]\nname=Testing\nbaseurl=file:///srv/t/sig/alpha/testing/$basearch/\nenabled=1\ngpgcheck=1\n' > %{buildroot}/etc/yum.repos.d/t-sig-alpha.repo
echo key > %{buildroot}/etc/pki/rpm-gpg/RPM-GPG-KEY-t-sig-alpha
%files
%config(noreplace) /etc/yum.repos.d/t-sig-alpha.repo
/etc/pki/rpm-gpg/RPM-GPG-KEY-t-sig-alpha
`

// TestOwnedFilesStay: with the SIG's release package installed (real
// rpm, real database under the root), disable switches its repositories
// off in place and removes nothing the package owns (rpm -V reports
// nothing missing); enable switches them back on in place, one or all,
// and with all on the file holds the package's bytes again.
func TestOwnedFilesStay(t *testing.T) {
	x, dir := loadTwoSIGs(t)
	rpms, err := fixtures.BuildSpec(t.TempDir(), "t-release-alpha", releaseSpec)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, args := range [][]string{{"--root", root, "--initdb"}, {"--root", root, "-i", "--nodeps", "--nosignature", rpms[0]}} {
		if out, err := exec.Command("rpm", args...).CombinedOutput(); err != nil {
			t.Fatalf("rpm %v: %v\n%s", args, err, out)
		}
	}
	verify := func() string {
		out, _ := exec.Command("rpm", "--root", root, "-V", "t-release-alpha").CombinedOutput()
		return string(out)
	}
	states := func() string {
		rs, err := States(root, "t", "alpha")
		if err != nil {
			t.Fatal(err)
		}
		var b []string
		for _, r := range rs {
			b = append(b, r.ID+"="+map[bool]string{true: "on", false: "off"}[r.Enabled])
		}
		return strings.Join(b, " ")
	}
	repoPath, keyPath := Paths(root, "t", "alpha", "RPM-GPG-KEY-t-sig-alpha")

	res, err := Disable(root, "t", "alpha", "RPM-GPG-KEY-t-sig-alpha", RPMOwner)
	if err != nil || res.Owner != "t-release-alpha" {
		t.Fatalf("disable: %+v %v", res, err)
	}
	for _, p := range []string{repoPath, keyPath} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("disable removed %s, which t-release-alpha owns", p)
		}
	}
	if v := verify(); strings.Contains(v, "missing") || !strings.Contains(v, "/etc/yum.repos.d/t-sig-alpha.repo") {
		t.Errorf("rpm -V after disable: the .repo file changed, nothing missing; got\n%s", v)
	}
	if got := states(); got != "t-sig-alpha-extras=off t-sig-alpha-testing=off" || Enabled(root, "t", "alpha") {
		t.Errorf("after disable: %s", got)
	}

	if res, err := Enable(root, x, "alpha", "testing", dir, RPMOwner); err != nil || res.Owner != "t-release-alpha" {
		t.Fatalf("enable testing: %+v %v", res, err)
	}
	if got := states(); got != "t-sig-alpha-extras=off t-sig-alpha-testing=on" {
		t.Errorf("after enable testing: %s", got)
	}
	if _, err := Enable(root, x, "alpha", "", dir, RPMOwner); err != nil {
		t.Fatal(err)
	}
	// The file's bytes are the package's again (only its time differs).
	if got, v := states(), verify(); got != "t-sig-alpha-extras=on t-sig-alpha-testing=on" || strings.ContainsAny(strings.Fields(v + " x")[0], "S5") || strings.Contains(v, "missing") {
		t.Errorf("after enable: %s; rpm -V:\n%s", got, v)
	}
}

// TestPublicationFromTheMachine: the publication is read off the
// machine's own distribution .repo file; with two distributions',
// /etc/os-release decides; with none, the error says to give --from.
func TestPublicationFromTheMachine(t *testing.T) {
	root := t.TempDir()
	repos := filepath.Join(root, "etc", "yum.repos.d")
	os.MkdirAll(repos, 0o755)
	if _, _, err := Publication(root); err == nil || !strings.Contains(err.Error(), "give --from URL") {
		t.Errorf("no .repo file: %v", err)
	}
	os.WriteFile(filepath.Join(repos, "other.repo"), []byte("[other]\nbaseurl=https://mirror.example/other/\n"), 0o644)
	// Another file's section of the name does not say where t is.
	os.WriteFile(filepath.Join(repos, "zzz.repo"), []byte("[t-sig-release]\nbaseurl=https://evil.example/sig/release/$basearch/\n"), 0o644)
	os.WriteFile(filepath.Join(repos, "t.repo"), compose.RepoFile("t", "T Linux", "https://t.example/pub/9/", "RPM-GPG-KEY-t", []compose.RepoDef{{Name: "BaseOS"}}), 0o644)
	if from, distro, err := Publication(root); err != nil || from != "https://t.example/pub/9" || distro != "t" {
		t.Errorf("Publication: %q %q %v", from, distro, err)
	}
	os.WriteFile(filepath.Join(repos, "u.repo"), compose.RepoFile("u", "U Linux", "file:///srv/u", "RPM-GPG-KEY-u", nil), 0o644)
	if _, _, err := Publication(root); err == nil || !strings.Contains(err.Error(), "the publications of t, u") {
		t.Errorf("two distributions, no os-release: %v", err)
	}
	os.WriteFile(filepath.Join(root, "etc", "os-release"), []byte("NAME=\"U Linux\"\nID=\"u\"\n"), 0o644)
	if from, distro, err := Publication(root); err != nil || from != "file:///srv/u" || distro != "u" {
		t.Errorf("os-release names u: %q %q %v", from, distro, err)
	}
}
