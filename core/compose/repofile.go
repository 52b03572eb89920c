package compose

import (
	"fmt"
	"strings"

	"github.com/quarrylinux/quarry/core/layout"
)

// RepoDef is one repository a .repo file describes.
type RepoDef struct {
	Name     string // BaseOS
	Optional bool   // shipped disabled, like CRB
}

// SIGReleaseDir is where the <distro>-release-<sig> packages are
// published, signed with the core key: outside repos/, so that enabling a
// SIG changes nothing there; the core's .repo file always lists it, the
// way CentOS's lists extras.
const SIGReleaseDir = "sig/release"

// RepoFile writes the dnf .repo file for a distribution's repositories
// published under url: each repository enabled unless optional, its -debug
// and source companions disabled, and the SIG release packages'
// repository, every one checked with gpgcheck and repo_gpgcheck against
// the key installed as /etc/pki/rpm-gpg/<keyName>.
func RepoFile(distro, pretty, url, keyName string, repos []RepoDef) []byte {
	url = strings.TrimRight(url, "/")
	var b strings.Builder
	section := sectionWriter(&b, keyName)
	for _, r := range repos {
		id := distro + "-" + strings.ToLower(r.Name)
		section(id, fmt.Sprintf("%s $releasever - %s", pretty, r.Name), url+"/repos/"+r.Name+"/$basearch/", !r.Optional)
		section(id+"-debug", fmt.Sprintf("%s $releasever - %s - Debug", pretty, r.Name), url+"/repos/"+r.Name+"-debug/$basearch/", false)
	}
	section(distro+"-source", pretty+" $releasever - Source", url+"/repos/source/", false)
	section(distro+"-sig-release", pretty+" $releasever - SIG release packages", url+"/"+SIGReleaseDir+"/$basearch/", true)
	return []byte(strings.TrimRight(b.String(), "\n") + "\n")
}

func sectionWriter(b *strings.Builder, keyName string) func(id, name, baseurl string, enabled bool) {
	return func(id, name, baseurl string, enabled bool) {
		on := 0
		if enabled {
			on = 1
		}
		fmt.Fprintf(b, "[%s]\nname=%s\nbaseurl=%s\nenabled=%d\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/%s\n\n", id, name, baseurl, on, keyName)
	}
}

// SIGRepo is one repository of a SIG, as its .repo file lists it.
type SIGRepo struct {
	ID, Name string
}

// SIGRepoFile writes a SIG's .repo file, <distro>-sig-<sig>.repo: each of
// its repositories (<distro>-sig-<sig>-<id>) enabled, under
// url/sig/<sig>/<id>/, checked against the SIG's key keyName.
func SIGRepoFile(distro, pretty, sig, url, keyName string, repos []SIGRepo) []byte {
	url = strings.TrimRight(url, "/")
	var b strings.Builder
	section := sectionWriter(&b, keyName)
	for _, r := range repos {
		name := r.Name
		if name == "" {
			name = r.ID
		}
		section(layout.Names(distro).SIGRepoID(sig, r.ID), fmt.Sprintf("%s $releasever - SIG %s - %s", pretty, sig, name), url+"/sig/"+sig+"/"+r.ID+"/$basearch/", true)
	}
	return []byte(strings.TrimRight(b.String(), "\n") + "\n")
}
