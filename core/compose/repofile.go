package compose

import (
	"fmt"
	"strings"
)

// RepoDef is one repository a .repo file describes.
type RepoDef struct {
	Name     string // BaseOS
	Optional bool   // shipped disabled, like CRB
}

// RepoFile writes the dnf .repo file for a distribution's repositories
// published under url: each repository enabled unless optional, its -debug
// and source companions disabled, every one checked with gpgcheck and
// repo_gpgcheck against the key installed as
// /etc/pki/rpm-gpg/<keyName>.
func RepoFile(distro, pretty, url, keyName string, repos []RepoDef) []byte {
	url = strings.TrimRight(url, "/")
	var b strings.Builder
	section := func(id, name, baseurl string, enabled bool) {
		on := 0
		if enabled {
			on = 1
		}
		fmt.Fprintf(&b, "[%s]\nname=%s\nbaseurl=%s\nenabled=%d\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/%s\n\n", id, name, baseurl, on, keyName)
	}
	for _, r := range repos {
		id := distro + "-" + strings.ToLower(r.Name)
		section(id, fmt.Sprintf("%s $releasever - %s", pretty, r.Name), url+"/repos/"+r.Name+"/$basearch/", !r.Optional)
		section(id+"-debug", fmt.Sprintf("%s $releasever - %s - Debug", pretty, r.Name), url+"/repos/"+r.Name+"-debug/$basearch/", false)
	}
	section(distro+"-source", pretty+" $releasever - Source", url+"/repos/source/", false)
	return []byte(strings.TrimRight(b.String(), "\n") + "\n")
}
