package conformance

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
)

// Outputs is everything a configured plugin returns.
type Outputs struct {
	Repos      []sdk.Repo
	Packages   []sdk.Package
	Kernels    []sdk.Kernel
	Installers []sdk.Installer
}

// Collect calls every capability the plugin declares. A declared call
// the plugin does not implement counts as empty here: the capabilities
// check is the one that reports it.
func Collect(ctx context.Context, s Session) (*Outputs, error) {
	info := s.Info()
	o := &Outputs{}
	var err error
	keep := func(e error) error {
		if Unsupported(e) {
			return nil
		}
		return e
	}
	if info.Has(host.CapRepos) {
		if o.Repos, err = s.Repos(ctx); keep(err) != nil {
			return nil, err
		}
	}
	if info.Has(host.CapPackages) {
		if o.Packages, err = s.Packages(ctx); keep(err) != nil {
			return nil, err
		}
	}
	if info.Has(host.CapKernels) {
		if o.Kernels, err = s.Kernels(ctx); keep(err) != nil {
			return nil, err
		}
	}
	if info.Has(host.CapInstallers) {
		if o.Installers, err = s.Installers(ctx); keep(err) != nil {
			return nil, err
		}
	}
	return o, nil
}

// Diff names the first part of two outputs that differs.
func (o *Outputs) Diff(p *Outputs) string {
	parts := []struct {
		name string
		a, b any
	}{{"repositories", o.Repos, p.Repos}, {"packages", o.Packages, p.Packages}, {"kernels", o.Kernels, p.Kernels}, {"installers", o.Installers, p.Installers}}
	for _, part := range parts {
		a, _ := json.Marshal(part.a)
		b, _ := json.Marshal(part.b)
		if string(a) != string(b) {
			return part.name
		}
	}
	return ""
}

// Unsupported reports whether err is the plugin saying it lacks a call.
func Unsupported(err error) bool { return errors.Is(err, host.ErrUnsupported) }
