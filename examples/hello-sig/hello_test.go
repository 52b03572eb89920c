package main

import (
	"context"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/sdktest"
	"github.com/quarrylinux/quarry/testing/conformance"
)

func TestHello(t *testing.T) {
	c := sdktest.Client(t, "hello", func() sdk.Plugin { return &hello{} })
	ctx := context.Background()
	if diags, err := c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"greeting":""}`)}); err != nil || !strings.Contains(diags.String(), "greeting: must not be empty") {
		t.Errorf("an empty greeting: %v %v", diags, err)
	}
	if diags, err := c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"greeting":"Hi there"}`)}); err != nil || len(diags) > 0 {
		t.Fatalf("a good config: %v %v", diags, err)
	}
	pkgs, err := c.Packages(ctx)
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("packages: %v %v", pkgs, err)
	}
	var greeting string
	for _, f := range pkgs[0].Files {
		if f.Path == "greeting.txt" {
			greeting = string(f.Data)
		}
	}
	if greeting != "Hi there\n" {
		t.Errorf("greeting.txt = %q", greeting)
	}
}

// TestConformance runs the conformance suite on the plugin in process (the
// checks that need a binary are skipped; quarry plugin check runs them).
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.InProcess(t, "hello", func() sdk.Plugin { return &hello{} }, []byte(`{"greeting":"Hi"}`)))
}
