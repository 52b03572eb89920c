// Package ships is the skeleton of the test SIGs that attack the gate
// with what they build: each ships a few source packages into one
// repository, extras, and is well-behaved in everything else, so that the
// host and the conformance suite see only what its packages do.
package ships

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

// Packages makes the SIG's packages for the distribution named distro.
type Packages func(distro string) []sdk.Package

// Serve serves the SIG name, shipping what pkgs makes.
func Serve(name, description string, pkgs Packages) {
	sdk.Serve(name, func() sdk.Plugin { return &plugin{description: description, pkgs: pkgs} })
}

// Spec is a package made of one spec file, name.spec, in extras.
func Spec(name, spec string) sdk.Package {
	return sdk.Package{Name: name, Repo: "extras", Spec: name + ".spec", Files: []sdk.File{{Path: name + ".spec", Data: []byte(spec)}}}
}

type plugin struct {
	description string
	pkgs        Packages
	distro      string
}

func (p *plugin) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: p.description} }
func (p *plugin) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	p.distro = req.Distribution.Name
	return req.Decode(&struct{}{})
}
func (*plugin) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p *plugin) Packages(context.Context) ([]sdk.Package, error) {
	return p.pkgs(p.distro), nil
}
