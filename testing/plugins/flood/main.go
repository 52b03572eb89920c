// Command flood writes far too much to stderr when configured.
package main

import (
	"context"
	"os"
	"strings"

	"github.com/quarrylinux/quarry/sdk"
)

// stderr is the process's real stderr: go-plugin redirects os.Stderr
// once it serves.
var stderr = os.Stderr

type p struct{}

func (p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: flood"} }
func (p) Configure(ctx context.Context, _ sdk.ConfigureRequest) sdk.Diagnostics {
	line := strings.Repeat("flood ", 1000) + "\n"
	for ctx.Err() == nil {
		if _, err := stderr.WriteString(line); err != nil {
			break
		}
	}
	return nil
}

func main() { sdk.Serve("flood", func() sdk.Plugin { return p{} }) }
