// Package provenance says how each published RPM was made: an in-toto
// statement with a SLSA v1 provenance predicate per build job, naming the
// job's RPMs as subjects, signed with the core key in a DSSE envelope.
package provenance

import (
	"encoding/json"
	"fmt"
	"time"
)

// The in-toto and SLSA identifiers this package writes.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType names Quarry's build: rpmbuild --rebuild of a debranded
	// SRPM in a sandbox, with the batch's packages as buildroot.
	BuildType = "https://github.com/quarrylinux/quarry/build/v1"
)

// Statement is an in-toto v1 statement.
type Statement struct {
	Type          string     `json:"_type"`
	Subject       []Resource `json:"subject"`
	PredicateType string     `json:"predicateType"`
	Predicate     Predicate  `json:"predicate"`
}

// Resource is an in-toto ResourceDescriptor.
type Resource struct {
	Name        string            `json:"name,omitempty"`
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Predicate is SLSA v1 provenance.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is what was built, from what.
type BuildDefinition struct {
	BuildType            string     `json:"buildType"`
	ExternalParameters   External   `json:"externalParameters"`
	InternalParameters   Internal   `json:"internalParameters"`
	ResolvedDependencies []Resource `json:"resolvedDependencies"`
}

// External are the parameters a user controls: which package of which
// distribution, for which arch, from which upstream.
type External struct {
	Distribution string `json:"distribution"`
	Version      string `json:"version"`
	Package      string `json:"package"`
	Arch         string `json:"arch"`
	Upstream     string `json:"upstream"` // the dist-git or SRPM source URL
	Ref          string `json:"ref,omitempty"`
	Patches      string `json:"patches,omitempty"` // the patch repository URL
}

// Internal are the builder's own settings.
type Internal struct {
	Command []string `json:"command"`
	// Setup ran before Command in the same sandbox: the BuildRequires
	// installed into the buildroot.
	Setup [][]string `json:"setup,omitempty"`
	// Toolchain names the host's tools in the cross mode; in a buildroot
	// the image is a resolved dependency instead.
	Toolchain string `json:"toolchain,omitempty"`
	// Macros is the sha256 of the macros the build ran with.
	Macros string `json:"macros"`
	// Key is the build's cache key: the hash of every input above.
	Key string `json:"key"`
}

// RunDetails is who built it, when.
type RunDetails struct {
	Builder    Builder    `json:"builder"`
	Metadata   Metadata   `json:"metadata"`
	Byproducts []Resource `json:"byproducts,omitempty"`
}

// Builder identifies the build platform.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// Metadata is the build's invocation.
type Metadata struct {
	InvocationID string    `json:"invocationId"`
	StartedOn    time.Time `json:"startedOn"`
	FinishedOn   time.Time `json:"finishedOn"`
}

// Has reports whether the statement names a subject with that name and
// sha256.
func (s *Statement) Has(name, sha256 string) bool {
	for _, sub := range s.Subject {
		if sub.Name == name && sub.Digest["sha256"] == sha256 {
			return true
		}
	}
	return false
}

// check is what any reader needs of a statement before trusting it.
func (s *Statement) check() error {
	if s.Type != StatementType {
		return fmt.Errorf("statement type %q, want %q", s.Type, StatementType)
	}
	if s.PredicateType != PredicateType {
		return fmt.Errorf("predicate type %q, want %q", s.PredicateType, PredicateType)
	}
	if len(s.Subject) == 0 {
		return fmt.Errorf("statement has no subject")
	}
	return nil
}

func (s *Statement) marshal() ([]byte, error) { return json.Marshal(s) }
