// Command quarry-sig-kernel is the kernel SIG: alternate kernels, each a
// renamed package set (kernel-<flavour>, -core, -modules, -devel) with a
// config fragment per arch, that installs beside the stock kernel. Its
// source is a stand-in for a kernel tree; see README.md.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/quarrylinux/quarry/sdk"
)

//go:embed kernel.spec.tmpl
var specText string

var spec = template.Must(template.New("spec").Funcs(template.FuncMap{"join": strings.Join}).Parse(specText))

// known are the flavours this SIG maintains, with their default versions.
var known = map[string]string{"mainline": "6.12.1", "lts": "6.6.63"}

// Config is the kernel SIG's block of quarry.yaml.
type Config struct {
	Flavours []Flavour `json:"flavours"`
}

// Flavour is one alternate kernel.
type Flavour struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Release string `json:"release"`
	// Options are CONFIG_ lines added on every arch, or per arch.
	Options     []string            `json:"options"`
	ArchOptions map[string][]string `json:"arch_options"`
}

type kernel struct {
	cfg    Config
	arches []string
}

func (k *kernel) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "alternate kernels (mainline, lts) beside the stock one"}
}

var (
	versionPattern = regexp.MustCompile(`^\d+\.\d+(\.\d+)?$`)
	optionPattern  = regexp.MustCompile(`^(CONFIG_[A-Z0-9_]+=(y|m|n|"[^"]*"|[0-9]+)|# CONFIG_[A-Z0-9_]+ is not set)$`)
)

// Configure checks the flavours: known names, each once, versions and
// CONFIG_ lines that look right, arches the distribution builds.
func (k *kernel) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	k.cfg = Config{Flavours: []Flavour{{Name: "mainline"}}}
	diags := req.Decode(&k.cfg)
	if diags.HasErrors() {
		return diags
	}
	k.arches = req.Distribution.Arches
	seen := map[string]bool{}
	for i := range k.cfg.Flavours {
		f := &k.cfg.Flavours[i]
		at := fmt.Sprintf("flavours[%d]", i)
		def, ok := known[f.Name]
		if !ok {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.Error, Path: at + ".name", Summary: fmt.Sprintf("unknown flavour %q", f.Name), Detail: "known: " + strings.Join(slices.Sorted(maps.Keys(known)), ", ")})
			continue
		}
		if seen[f.Name] {
			diags = append(diags, sdk.Errorf(at+".name", "flavour %s is listed twice", f.Name))
		}
		seen[f.Name] = true
		if f.Version == "" {
			f.Version = def
		}
		if !versionPattern.MatchString(f.Version) {
			diags = append(diags, sdk.Errorf(at+".version", "%q is not a kernel version (6.12.1)", f.Version))
		}
		if f.Release == "" {
			f.Release = "1"
		}
		for j, o := range f.Options {
			if !optionPattern.MatchString(o) {
				diags = append(diags, sdk.Errorf(fmt.Sprintf("%s.options[%d]", at, j), "%q is not a CONFIG_ line", o))
			}
		}
		for a, opts := range f.ArchOptions {
			if !slices.Contains(k.arches, a) {
				diags = append(diags, sdk.Errorf(at+".arch_options."+a, "the distribution does not build %s", a))
			}
			for j, o := range opts {
				if !optionPattern.MatchString(o) {
					diags = append(diags, sdk.Errorf(fmt.Sprintf("%s.arch_options.%s[%d]", at, a, j), "%q is not a CONFIG_ line", o))
				}
			}
		}
	}
	return diags
}

// Repos: one repository per flavour.
func (k *kernel) Repos(ctx context.Context) ([]sdk.Repo, error) {
	var repos []sdk.Repo
	for _, f := range k.cfg.Flavours {
		repos = append(repos, sdk.Repo{ID: f.Name, Name: "Kernel " + f.Name, Description: "The " + f.Name + " kernel, beside the stock one"})
	}
	return repos, nil
}

// Kernels renders each flavour's spec and per-arch configs.
func (k *kernel) Kernels(ctx context.Context) ([]sdk.Kernel, error) {
	var out []sdk.Kernel
	for _, f := range k.cfg.Flavours {
		var b strings.Builder
		err := spec.Execute(&b, map[string]any{"Flavour": f.Name, "Version": f.Version, "Release": f.Release, "Arches": k.arches})
		if err != nil {
			return nil, err
		}
		configs := map[string][]byte{}
		for _, a := range k.arches {
			lines := []string{"# kernel-" + f.Name + " " + f.Version + " for " + a, "CONFIG_LOCALVERSION=\"." + f.Name + "\""}
			lines = append(lines, f.Options...)
			lines = append(lines, f.ArchOptions[a]...)
			configs[a] = []byte(strings.Join(lines, "\n") + "\n")
		}
		name := "kernel-" + f.Name
		out = append(out, sdk.Kernel{Flavour: f.Name, Configs: configs, Package: sdk.Package{
			Name: name, Repo: f.Name, Spec: name + ".spec", Files: []sdk.File{{Path: name + ".spec", Mode: 0o644, Data: []byte(b.String())}},
		}})
	}
	return out, nil
}

func main() { sdk.Serve("kernel", func() sdk.Plugin { return &kernel{} }) }
