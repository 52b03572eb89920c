package main

import (
	"context"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/sdktest"
)

func TestKickstarts(t *testing.T) {
	c := sdktest.Client(t, "cloud", func() sdk.Plugin { return &cloud{} })
	ctx := context.Background()
	dist := sdk.Distribution{Name: "pebble", PrettyName: "Pebble Linux", Version: "9.4", Arches: []string{"x86_64"}}
	diags, _ := c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"targets":["generic","azure"],"image":{"name":"Bad Name"}}`), Distribution: dist})
	for _, want := range []string{`targets[1]: unknown target "azure" (known: ec2, gce, generic)`, `image.name: "Bad Name" must be lower-case`} {
		if !strings.Contains(diags.String(), want) {
			t.Errorf("diagnostics lack %q:\n%s", want, diags)
		}
	}
	if diags, err := c.Configure(ctx, sdk.ConfigureRequest{Distribution: dist}); err != nil || len(diags) > 0 {
		t.Fatalf("the default config: %v %v", diags, err)
	}
	ins, err := c.Installers(ctx)
	if err != nil || len(ins) != 5 {
		t.Fatalf("installers %+v %v", ins, err)
	}
	for _, in := range ins[:3] {
		if err := validateKickstart(string(in.Content)); err != nil || in.Kind != sdk.Kickstart {
			t.Errorf("%s: %v", in.Name, err)
		}
	}
	if !ins[3].Build || !ins[4].Build || !strings.Contains(strings.Join(ins[3].Packages, " "), "cloud-init-lite") {
		t.Errorf("the image installers: %+v %+v", ins[3], ins[4])
	}
	for bad, want := range map[string]string{
		"lang C\n%packages\nx\n%end\n":                            "no bootloader, keyboard, rootpw, timezone command",
		kickstart(dist, "generic", []string{"x"}) + "%end\n":      "%end outside a section",
		strings.TrimSuffix(kickstart(dist, "ec2", nil), "%end\n"): "%packages has no %end",
	} {
		if err := validateKickstart(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", bad, err, want)
		}
	}
}
