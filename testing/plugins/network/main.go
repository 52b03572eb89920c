// Command network tries to reach the address in its config.
package main

import (
	"context"
	"net"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct {
	cfg struct {
		Addr string `json:"addr"`
	}
}

func (p *p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: network"} }
func (p *p) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&p.cfg)
}
func (p *p) Repos(ctx context.Context) ([]sdk.Repo, error) {
	c, err := net.Dial("tcp", p.cfg.Addr)
	if err != nil {
		return nil, err
	}
	c.Close()
	return []sdk.Repo{{ID: "reached", Name: "reached the network"}}, nil
}

func main() { sdk.Serve("network", func() sdk.Plugin { return &p{} }) }
