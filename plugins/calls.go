package plugins

import (
	"context"
	"io"

	"github.com/quarrylinux/quarry/core/safetext"
	"github.com/quarrylinux/quarry/sdk"
)

// Each call is bounded by the host's call timeout; its failure is an
// *Error naming the SIG and the call.

func (p *Plugin) wrap(call string, ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	return &Error{SIG: p.SIG, Call: call, Err: p.explain(call, ctx, err)}
}

// Configure hands the plugin its config block (JSON) and the core's
// description; core, when set, answers the plugin's questions.
func (p *Plugin) Configure(ctx context.Context, req sdk.ConfigureRequest) (sdk.Diagnostics, error) {
	ctx, cancel := p.call(ctx)
	defer cancel()
	d, err := p.c.Configure(ctx, req)
	// Diagnostics are printed to the operator: the plugin's text, made
	// safe for a terminal.
	for i := range d {
		d[i].Path, d[i].Summary, d[i].Detail = safetext.Terminal(d[i].Path), safetext.Terminal(d[i].Summary), safetext.Terminal(d[i].Detail)
	}
	return d, p.wrap("Configure", ctx, err)
}

// Repos lists the SIG's repositories.
func (p *Plugin) Repos(ctx context.Context) ([]sdk.Repo, error) {
	ctx, cancel := p.call(ctx)
	defer cancel()
	r, err := p.c.Repos(ctx)
	return r, p.wrap("Repos", ctx, err)
}

// Packages receives the SIG's source packages.
func (p *Plugin) Packages(ctx context.Context) ([]sdk.Package, error) {
	ctx, cancel := p.call(ctx)
	defer cancel()
	r, err := p.c.Packages(ctx)
	return r, p.wrap("Packages", ctx, err)
}

// Kernels receives the SIG's kernel flavours.
func (p *Plugin) Kernels(ctx context.Context) ([]sdk.Kernel, error) {
	ctx, cancel := p.call(ctx)
	defer cancel()
	r, err := p.c.Kernels(ctx)
	return r, p.wrap("Kernels", ctx, err)
}

// Installers lists the SIG's kickstarts and images.
func (p *Plugin) Installers(ctx context.Context) ([]sdk.Installer, error) {
	ctx, cancel := p.call(ctx)
	defer cancel()
	r, err := p.c.Installers(ctx)
	return r, p.wrap("Installers", ctx, err)
}

// BuildInstaller has the plugin build an artifact, written to w.
func (p *Plugin) BuildInstaller(ctx context.Context, req sdk.BuildRequest, w io.Writer) (sdk.Artifact, error) {
	ctx, cancel := p.call(ctx)
	defer cancel()
	a, err := p.c.BuildInstaller(ctx, req, w)
	return a, p.wrap("BuildInstaller", ctx, err)
}

// Stop asks the plugin to cancel what it has in flight.
func (p *Plugin) Stop(ctx context.Context) error {
	ctx, cancel := p.call(ctx)
	defer cancel()
	return p.wrap("Stop", ctx, p.c.Stop(ctx))
}
