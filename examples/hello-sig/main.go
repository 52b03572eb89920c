// Command quarry-sig-hello is the smallest useful SIG: one optional
// repository with one package, whose greeting comes from the SIG's config
// block in quarry.yaml. Copy this folder to start a SIG.
package main

import (
	"context"
	"embed"

	"github.com/quarrylinux/quarry/sdk"
)

//go:embed package
var files embed.FS

type hello struct {
	cfg struct {
		Greeting string `json:"greeting"`
	}
}

func (h *hello) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "the starter SIG: one repository, one package"}
}

// Configure reads the SIG's block of quarry.yaml:
//
//	sigs:
//	  - name: hello
//	    config:
//	      greeting: Hello from the hello SIG
func (h *hello) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	h.cfg.Greeting = "Hello from the hello SIG"
	diags := req.Decode(&h.cfg)
	if h.cfg.Greeting == "" {
		diags = append(diags, sdk.Errorf("greeting", "must not be empty"))
	}
	return diags
}

func (h *hello) Repos(ctx context.Context) ([]sdk.Repo, error) {
	return []sdk.Repo{{ID: "extras", Name: "Hello SIG extras", Description: "Greetings from the hello SIG"}}, nil
}

func (h *hello) Packages(ctx context.Context) ([]sdk.Package, error) {
	pkg, err := sdk.FilesFrom(files, "package")
	if err != nil {
		return nil, err
	}
	pkg = append(pkg, sdk.File{Path: "greeting.txt", Mode: 0o644, Data: []byte(h.cfg.Greeting + "\n")})
	return []sdk.Package{{Name: "hello-sig-motd", Repo: "extras", Spec: "hello-sig-motd.spec", Files: pkg}}, nil
}

func main() { sdk.Serve("hello", func() sdk.Plugin { return &hello{} }) }
