package plan

import "strings"

// Source is what the plan knows of a package's SRPM and spec: plain facts,
// which the SRPM maker (core/srpm) reads from the SRPM it makes and from
// rpmspec's answers.
type Source struct {
	Name string `json:"name"`
	// Header is the name the SRPM's header gives: the spec's Name:, which
	// debranding may have changed from the configured name.
	Header string `json:"header"`
	// File and SRPM are the SRPM's file name and sha256 in the store.
	File string `json:"file"`
	SRPM string `json:"srpm"`
	// BuildRequires, ExclusiveArch, ExcludeArch and BuildArch come from
	// the SRPM header, as rpmbuild evaluated the spec.
	BuildRequires []Dep    `json:"build_requires"`
	ExclusiveArch []string `json:"exclusive_arch,omitempty"`
	ExcludeArch   []string `json:"exclude_arch,omitempty"`
	BuildArch     []string `json:"build_arch,omitempty"`
	// Binaries are the binary packages the spec produces, by target arch.
	Binaries map[string][]Binary `json:"binaries"`
}

// NVR is the SRPM's name-version-release, from its file name (.src.rpm,
// or .nosrc.rpm for a spec with NoSource: or NoPatch:).
func (s *Source) NVR() string {
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s.File, ".rpm"), ".src"), ".nosrc")
}

// Binary is a binary package a spec produces for one target.
type Binary struct {
	Name     string `json:"name"`
	Arch     string `json:"arch"`
	EVR      string `json:"evr"`
	Provides []Dep  `json:"provides"`
	Requires []Dep  `json:"requires,omitempty"`
	// Obsoletes and Conflicts are what the SIG policy gate reads: a SIG
	// package may not replace a core one.
	Obsoletes []Dep `json:"obsoletes,omitempty"`
	Conflicts []Dep `json:"conflicts,omitempty"`
}
