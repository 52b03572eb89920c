package main

import (
	"context"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/sdktest"
)

func TestKernelSIG(t *testing.T) {
	c := sdktest.Client(t, "kernel", func() sdk.Plugin { return &kernel{} })
	ctx := context.Background()
	dist := sdk.Distribution{Name: "pebble", Arches: []string{"x86_64", "aarch64"}}
	bad := `{"flavours":[{"name":"rt"},{"name":"lts","version":"six","options":["CONFIG_X=maybe"],"arch_options":{"riscv64":["CONFIG_Y=y"]}}]}`
	diags, err := c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(bad), Distribution: dist})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`flavours[0].name: unknown flavour "rt" (known: lts, mainline)`, `flavours[1].version: "six" is not a kernel version`,
		`flavours[1].options[0]: "CONFIG_X=maybe" is not a CONFIG_ line`, "flavours[1].arch_options.riscv64: the distribution does not build riscv64"} {
		if !strings.Contains(diags.String(), want) {
			t.Errorf("diagnostics lack %q:\n%s", want, diags)
		}
	}
	good := `{"flavours":[{"name":"mainline","options":["CONFIG_PREEMPT=y"]},{"name":"lts","arch_options":{"aarch64":["CONFIG_ARM64_64K_PAGES=y"]}}]}`
	if diags, err := c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(good), Distribution: dist}); err != nil || len(diags) > 0 {
		t.Fatalf("good config: %v %v", diags, err)
	}
	repos, err := c.Repos(ctx)
	if err != nil || len(repos) != 2 || repos[0].ID != "mainline" {
		t.Errorf("repos %+v %v", repos, err)
	}
	ks, err := c.Kernels(ctx)
	if err != nil || len(ks) != 2 {
		t.Fatalf("kernels %+v %v", ks, err)
	}
	spec := string(ks[0].Package.Files[0].Data)
	for _, want := range []string{"Name:           kernel-%{flavour}", "Version:        6.12.1", "Source1:        config-aarch64", "ExclusiveArch:  x86_64 aarch64", "Provides:       kernel = %{version}-%{release}"} {
		if !strings.Contains(spec, want) {
			t.Errorf("the mainline spec lacks %q:\n%s", want, spec)
		}
	}
	if !strings.Contains(string(ks[1].Configs["aarch64"]), "CONFIG_ARM64_64K_PAGES=y") || strings.Contains(string(ks[1].Configs["x86_64"]), "64K") {
		t.Errorf("lts configs: %q / %q", ks[1].Configs["aarch64"], ks[1].Configs["x86_64"])
	}
}
