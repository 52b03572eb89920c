// Command bulk streams as many megabytes of sources as its config asks,
// for the streaming benchmark.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct {
	cfg struct {
		MB int `json:"mb"`
	}
}

func (p *p) Info() sdk.Info { return sdk.Info{Version: "1.0.0"} }
func (p *p) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&p.cfg)
}
func (p *p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "bulk"}}, nil }
func (p *p) Packages(context.Context) ([]sdk.Package, error) {
	data := make([]byte, p.cfg.MB<<20)
	for i := range data {
		data[i] = byte(i)
	}
	return []sdk.Package{{Name: "bulk", Repo: "bulk", Spec: "bulk.spec", Files: []sdk.File{
		{Path: "bulk.spec", Data: []byte("Name: bulk\n")}, {Path: "bulk.tar", Data: data}}}}, nil
}

func main() { sdk.Serve("bulk", func() sdk.Plugin { return &p{} }) }
