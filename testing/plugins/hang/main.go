// Command hang never answers Repos, and ignores cancellation.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{}

func (p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: hang"} }
func (p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&struct{}{})
}
func (p) Repos(context.Context) ([]sdk.Repo, error) { select {} }

func main() { sdk.Serve("hang", func() sdk.Plugin { return p{} }) }
