package main

import (
	"context"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/sdktest"
)

func TestHPCMatrix(t *testing.T) {
	c := sdktest.Client(t, "hpc", func() sdk.Plugin { return &hpc{} })
	ctx := context.Background()
	diags, _ := c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"mpi":{"variants":["ompi","Bad"]},"scheduler":{"versions":["23.02.7","23.11.1"]}}`)})
	for _, want := range []string{`mpi.variants[1]: "Bad" must be lower-case`, "scheduler.versions[1]: major version 23 is listed twice"} {
		if !strings.Contains(diags.String(), want) {
			t.Errorf("diagnostics lack %q:\n%s", want, diags)
		}
	}
	if diags, err := c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"scheduler":{"versions":["22.05.11","23.02.7"]}}`)}); err != nil || len(diags) > 0 {
		t.Fatalf("good config: %v %v", diags, err)
	}
	pkgs, err := c.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "hpc-modulefiles minimpi-ompi minimpi-mpich slurmish22 slurmish23" {
		t.Errorf("the matrix: %s", got)
	}
	for _, f := range pkgs[3].Files {
		if f.Path == "modulefile" && !strings.Contains(string(f.Data), "prepend-path PATH /opt/slurmish/22/bin") {
			t.Errorf("slurmish22's modulefile:\n%s", f.Data)
		}
	}
}
