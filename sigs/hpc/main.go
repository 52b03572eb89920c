// Command quarry-sig-hpc is the HPC SIG: versioned stacks side by side,
// generated from its config as a matrix of packages — an MPI-style
// library built once per variant, a scheduler-like service once per major
// version — with environment-modules files to switch between them.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/quarrylinux/quarry/sdk"
)

var (
	//go:embed minimpi.spec.tmpl
	minimpiSpec string
	//go:embed slurmish.spec.tmpl
	slurmishSpec string
	//go:embed hpc-modulefiles.spec
	modulesSpec []byte
	//go:embed src/minimpi.c
	minimpiC []byte
)

// Config is the HPC SIG's block of quarry.yaml.
type Config struct {
	MPI       MPI       `json:"mpi"`
	Scheduler Scheduler `json:"scheduler"`
}

// MPI is the library matrix: one package per variant.
type MPI struct {
	Version  string   `json:"version"`
	Variants []string `json:"variants"`
}

// Scheduler is the service matrix: one package per major version.
type Scheduler struct {
	Versions []string `json:"versions"` // "23.02.7": the major is 23
}

type hpc struct{ cfg Config }

func (h *hpc) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "versioned HPC stacks side by side, switched with environment modules"}
}

var (
	namePattern    = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	versionPattern = regexp.MustCompile(`^(\d+)(\.\d+)*$`)
)

func (h *hpc) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	h.cfg = Config{MPI: MPI{Version: "1.2", Variants: []string{"ompi", "mpich"}}, Scheduler: Scheduler{Versions: []string{"22.05.11", "23.02.7"}}}
	diags := req.Decode(&h.cfg)
	if diags.HasErrors() {
		return diags
	}
	if !versionPattern.MatchString(h.cfg.MPI.Version) {
		diags = append(diags, sdk.Errorf("mpi.version", "%q is not a version", h.cfg.MPI.Version))
	}
	seen := map[string]bool{}
	for i, v := range h.cfg.MPI.Variants {
		if !namePattern.MatchString(v) {
			diags = append(diags, sdk.Errorf(fmt.Sprintf("mpi.variants[%d]", i), "%q must be lower-case letters and digits", v))
		}
		if seen[v] {
			diags = append(diags, sdk.Errorf(fmt.Sprintf("mpi.variants[%d]", i), "variant %s is listed twice", v))
		}
		seen[v] = true
	}
	majors := map[string]bool{}
	for i, v := range h.cfg.Scheduler.Versions {
		m := versionPattern.FindStringSubmatch(v)
		if m == nil {
			diags = append(diags, sdk.Errorf(fmt.Sprintf("scheduler.versions[%d]", i), "%q is not a version", v))
			continue
		}
		if majors[m[1]] {
			diags = append(diags, sdk.Errorf(fmt.Sprintf("scheduler.versions[%d]", i), "major version %s is listed twice: versions of one major replace each other", m[1]))
		}
		majors[m[1]] = true
	}
	return diags
}

func (h *hpc) Repos(ctx context.Context) ([]sdk.Repo, error) {
	return []sdk.Repo{{ID: "stacks", Name: "HPC stacks", Description: "MPI variants and scheduler versions side by side"}}, nil
}

func render(text string, data any) ([]byte, error) {
	var b strings.Builder
	if err := template.Must(template.New("spec").Parse(text)).Execute(&b, data); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// Packages is the matrix.
func (h *hpc) Packages(ctx context.Context) ([]sdk.Package, error) {
	pkgs := []sdk.Package{{Name: "hpc-modulefiles", Repo: "stacks", Spec: "hpc-modulefiles.spec",
		Files: []sdk.File{{Path: "hpc-modulefiles.spec", Mode: 0o644, Data: modulesSpec}}}}
	for _, v := range h.cfg.MPI.Variants {
		spec, err := render(minimpiSpec, map[string]string{"Variant": v, "Version": h.cfg.MPI.Version})
		if err != nil {
			return nil, err
		}
		prefix := "/usr/lib64/minimpi/" + v
		name := "minimpi-" + v
		pkgs = append(pkgs, sdk.Package{Name: name, Repo: "stacks", Spec: name + ".spec", After: []string{"hpc-modulefiles"}, Files: []sdk.File{
			{Path: name + ".spec", Mode: 0o644, Data: spec},
			{Path: "minimpi.c", Mode: 0o644, Data: minimpiC},
			{Path: "mpirun.sh", Mode: 0o755, Data: []byte("#!/bin/sh\n# minimpi " + v + ": runs the program once, as rank 0\nexec \"$@\"\n")},
			{Path: "modulefile", Mode: 0o644, Data: modulefile("minimpi "+v, prefix+"/bin", prefix+"/lib")},
		}})
	}
	for _, version := range h.cfg.Scheduler.Versions {
		major := versionPattern.FindStringSubmatch(version)[1]
		spec, err := render(slurmishSpec, map[string]string{"Major": major, "Version": version})
		if err != nil {
			return nil, err
		}
		name := "slurmish" + major
		pkgs = append(pkgs, sdk.Package{Name: name, Repo: "stacks", Spec: name + ".spec", After: []string{"hpc-modulefiles"}, Files: []sdk.File{
			{Path: name + ".spec", Mode: 0o644, Data: spec},
			{Path: "slurmishd", Mode: 0o755, Data: []byte("#!/bin/sh\n# slurmish " + version + ": a stand-in scheduler daemon\necho \"slurmishd " + version + " ready\"\n")},
			{Path: "slurmishd.service", Mode: 0o644, Data: []byte("[Unit]\nDescription=slurmish " + version + " scheduler\n\n[Service]\nExecStart=/opt/slurmish/" + major + "/bin/slurmishd\n\n[Install]\nWantedBy=multi-user.target\n")},
			{Path: "modulefile", Mode: 0o644, Data: modulefile("slurmish "+version, "/opt/slurmish/"+major+"/bin", "")},
		}})
	}
	return pkgs, nil
}

// modulefile is an environment-modules (Tcl) file that puts one stack
// first on the paths; modules that conflict by family unload each other.
func modulefile(what, bin, lib string) []byte {
	family := strings.Fields(what)[0]
	s := "#%Module1.0\n## " + what + " (HPC SIG)\nconflict " + family + "\nprepend-path PATH " + bin + "\n"
	if lib != "" {
		s += "prepend-path LD_LIBRARY_PATH " + lib + "\n"
	}
	return []byte(s)
}

func main() { sdk.Serve("hpc", func() sdk.Plugin { return &hpc{} }) }
