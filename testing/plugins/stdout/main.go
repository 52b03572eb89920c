// Command stdout prints a banner on stdout before its handshake.
package main

import (
	"context"
	"fmt"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{}

func (p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: stdout"} }
func (p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&struct{}{})
}

func main() {
	fmt.Println("quarry-sig-stdout starting up")
	sdk.Serve("stdout", func() sdk.Plugin { return p{} })
}
