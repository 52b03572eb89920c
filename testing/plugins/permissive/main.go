// Command permissive accepts any config without reading it.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{}

func (p) Info() sdk.Info                                                  { return sdk.Info{Version: "1.0.0", Description: "accepts anything"} }
func (p) Configure(context.Context, sdk.ConfigureRequest) sdk.Diagnostics { return nil }
func (p) Repos(context.Context) ([]sdk.Repo, error)                       { return []sdk.Repo{{ID: "extras"}}, nil }

func main() { sdk.Serve("permissive", func() sdk.Plugin { return p{} }) }
