package provenance

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/lock"
)

// Input is what one job's provenance is made from.
type Input struct {
	Distribution string
	Version      string
	Builder      Builder
	Record       *build.Record
	// Source is the package's entry in quarry.lock: its upstream commit or
	// SRPM hash, every upstream file's hash, the patch repository commits.
	Source *lock.Package
	// Subjects are the published (signed) RPMs the job made.
	Subjects []Resource
}

// Make writes the statement of one build job. It depends only on its
// input, so the same build gives the same statement.
func Make(in Input) *Statement {
	rec := in.Record
	job := rec.Job
	ext := External{Distribution: in.Distribution, Version: in.Version, Package: job.Package, Arch: job.Arch}
	var deps []Resource
	if src := in.Source; src != nil {
		up := src.Upstream
		ext.Upstream, ext.Ref = up.URL, up.Ref
		switch {
		case up.Commit != "":
			deps = append(deps, Resource{Name: "upstream", URI: "git+" + up.URL, Digest: map[string]string{"gitCommit": up.Commit}})
		case up.SHA256 != "":
			deps = append(deps, Resource{Name: "upstream", URI: up.URL, Digest: map[string]string{"sha256": up.SHA256}})
		}
		if p := src.Patches; p != nil {
			ext.Patches = p.URL
			branches := make([]string, 0, len(p.Commits))
			for b := range p.Commits {
				branches = append(branches, b)
			}
			sort.Strings(branches)
			for _, b := range branches {
				deps = append(deps, Resource{Name: "patches:" + b, URI: "git+" + p.URL + "@" + b, Digest: map[string]string{"gitCommit": p.Commits[b]}})
			}
		}
		files := make([]string, 0, len(src.Sources))
		for f := range src.Sources {
			files = append(files, f)
		}
		sort.Strings(files)
		for _, f := range files {
			deps = append(deps, Resource{Name: "source:" + f, Digest: map[string]string{"sha256": src.Sources[f]}})
		}
	}
	deps = append(deps, Resource{Name: "srpm:" + job.SRPM.Name, Digest: map[string]string{"sha256": job.SRPM.SHA256}})
	if img, ok := strings.CutPrefix(job.Env.Buildroot, "sha256:"); ok {
		// The root the job ran in: the image's tar stream, as pinned.
		deps = append(deps, Resource{Name: "buildroot-image", Digest: map[string]string{"sha256": img}})
	}
	for _, b := range job.Buildroot {
		deps = append(deps, Resource{Name: "buildroot:" + b.Name, Digest: map[string]string{"sha256": b.SHA256}})
	}
	macros := sha256.Sum256([]byte(job.Env.Macros + "\x00" + job.Env.RPMRC))
	byproducts := []Resource{{Name: "build.log", Digest: map[string]string{"sha256": rec.Log}}}
	for _, o := range rec.Outputs {
		byproducts = append(byproducts, Resource{Name: o.File, Digest: map[string]string{"sha256": o.SHA256},
			Annotations: map[string]string{"signed": "false"}})
	}
	return &Statement{
		Type:          StatementType,
		Subject:       in.Subjects,
		PredicateType: PredicateType,
		Predicate: Predicate{
			BuildDefinition: BuildDefinition{
				BuildType:          BuildType,
				ExternalParameters: ext,
				InternalParameters: Internal{Command: rec.Command, Setup: rec.Setup, Toolchain: job.Env.Toolchain,
					Macros: hex.EncodeToString(macros[:]), Key: rec.Key},
				ResolvedDependencies: deps,
			},
			RunDetails: RunDetails{
				Builder:    in.Builder,
				Metadata:   Metadata{InvocationID: rec.Key, StartedOn: rec.Start, FinishedOn: rec.End},
				Byproducts: byproducts,
			},
		},
	}
}
