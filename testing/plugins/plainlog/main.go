// Command plainlog logs with the standard library's log package, in plain
// text, instead of sdk.Logger: everything else about it is right.
package main

import (
	"context"
	"log"
	"os"

	"github.com/quarrylinux/quarry/sdk"
)

// plain writes to the process's real stderr: go-plugin redirects
// os.Stderr once it serves.
var plain = log.New(os.Stderr, "plainlog: ", log.LstdFlags)

type p struct{}

func (p) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "misbehaves: logs plain text"}
}

func (p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	plain.Printf("configuring for %s", req.Distribution.Name)
	return req.Decode(&struct{}{})
}

func (p) Repos(context.Context) ([]sdk.Repo, error) {
	plain.Print("listing repositories")
	return nil, nil
}

func main() { sdk.Serve("plainlog", func() sdk.Plugin { return p{} }) }
