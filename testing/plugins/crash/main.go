// Command crash panics in the middle of a call.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{}

func (p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: crash"} }
func (p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&struct{}{})
}
func (p) Repos(context.Context) ([]sdk.Repo, error) { panic("crash: intentional panic in Repos") }

func main() { sdk.Serve("crash", func() sdk.Plugin { return p{} }) }
