package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
	"github.com/quarrylinux/quarry/sdk/sdktest"
)

type config struct {
	Flavours []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"flavours"`
	Debug bool `json:"debug"`
}

// full implements every capability.
type full struct {
	cfg     config
	core    sdk.Core
	started chan struct{}
}

func (f *full) Info() sdk.Info { return sdk.Info{Version: "1.2.3", Description: "every capability"} }

func (f *full) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	f.core = req.Core
	return req.Decode(&f.cfg)
}

func (f *full) Repos(ctx context.Context) ([]sdk.Repo, error) {
	return []sdk.Repo{{ID: "extras", Name: "Extras", Arches: []string{"x86_64"}}}, nil
}

var big = bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB: several chunks

func (f *full) Packages(ctx context.Context) ([]sdk.Package, error) {
	files, err := sdk.FilesFrom(fstest.MapFS{"pkg/hello.spec": {Data: []byte("Name: hello\n")}, "pkg/src/big.tar": {Data: big}, "pkg/empty": {}}, "pkg")
	if err != nil {
		return nil, err
	}
	return []sdk.Package{
		{Name: "hello", Repo: "extras", Spec: "hello.spec", Files: files},
		{Name: "remote", Repo: "extras", Spec: "remote.spec", Git: sdk.Git("https://git.example/remote.git", "abc123", ""), After: []string{"hello"}},
	}, nil
}

func (f *full) Kernels(ctx context.Context) ([]sdk.Kernel, error) {
	return []sdk.Kernel{{Flavour: "mainline", Package: sdk.Package{Name: "kernel-mainline", Repo: "extras", Spec: "k.spec",
		Files: []sdk.File{{Path: "k.spec", Data: []byte("Name: kernel-mainline\n")}}}, Configs: map[string][]byte{"x86_64": []byte("CONFIG_X=y\n")}}}, nil
}

func (f *full) Installers(ctx context.Context) ([]sdk.Installer, error) {
	// Blocks until stopped: the Stop test's in-flight call.
	if f.started != nil {
		close(f.started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return []sdk.Installer{{Name: "generic", Kind: sdk.Kickstart, Content: []byte("%packages\nhello\n%end\n"), Packages: []string{"hello"}, Repos: []string{"BaseOS"}}}, nil
}

func (f *full) BuildInstaller(ctx context.Context, req sdk.BuildRequest) (sdk.Artifact, error) {
	p := filepath.Join(req.ScratchDir, "image.tar")
	if err := os.WriteFile(p, big, 0o644); err != nil {
		return sdk.Artifact{}, err
	}
	return sdk.Artifact{Name: "image.tar", MediaType: "application/x-tar", Path: p}, nil
}

type minimal struct{}

func (minimal) Info() sdk.Info                                                  { return sdk.Info{Version: "0.1.0"} }
func (minimal) Configure(context.Context, sdk.ConfigureRequest) sdk.Diagnostics { return nil }

type core struct{}

func (core) Packages(ctx context.Context, names ...string) ([]sdk.CorePackage, error) {
	return []sdk.CorePackage{{Name: "kernel", Source: "kernel", EVR: "5.14.0-1", Arch: "x86_64", Repo: "BaseOS"}}, nil
}
func (core) Repos(ctx context.Context) ([]sdk.CoreRepo, error) {
	return []sdk.CoreRepo{{Name: "BaseOS"}}, nil
}

// TestRoundTrip: every call over a real gRPC connection, with the plain
// types on both ends.
func TestRoundTrip(t *testing.T) {
	impl := &full{}
	c := sdktest.Client(t, "demo", func() sdk.Plugin { return impl })
	ctx := context.Background()
	info, err := c.Info(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if info.SIG != "demo" || info.Version != "1.2.3" || info.SDKVersion != sdk.Version || len(info.Capabilities) != 5 || !info.Has(host.CapBuildInstaller) {
		t.Errorf("info %+v", info)
	}
	diags, err := c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"flavours":[{"name":"lts","version":"6.6"},{"nmae":"x","version":6}],"debug":"yes"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := diags.String()
	for _, want := range []string{`error: flavours[1].nmae: unknown key "nmae" (known: name, version)`, "error: flavours[1].version: want a string, got 6", `error: debug: want true or false, got "yes"`} {
		if !strings.Contains(got, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, got)
		}
	}
	if diags, _ := c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"flavours":[{"name":"lts"}]}`), Core: core{}}); len(diags) > 0 || impl.cfg.Flavours[0].Name != "lts" {
		t.Errorf("good config: %v %+v", diags, impl.cfg)
	}
	// The plugin asks the host about the core, through the broker.
	if ps, err := impl.core.Packages(ctx); err != nil || len(ps) != 1 || ps[0].EVR != "5.14.0-1" {
		t.Errorf("core packages: %v %v", ps, err)
	}

	pkgs, err := c.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || len(pkgs[0].Files) != 3 || pkgs[1].Git == nil || pkgs[1].Git.Commit != "abc123" || pkgs[1].After[0] != "hello" {
		t.Fatalf("packages %+v", pkgs)
	}
	for _, f := range pkgs[0].Files {
		if f.Path == "src/big.tar" && !bytes.Equal(f.Data, big) {
			t.Error("the big file came back different")
		}
	}
	ks, err := c.Kernels(ctx)
	if err != nil || len(ks) != 1 || ks[0].Package.Name != "kernel-mainline" || string(ks[0].Configs["x86_64"]) != "CONFIG_X=y\n" || len(ks[0].Package.Files) != 1 {
		t.Errorf("kernels %+v %v", ks, err)
	}
	ins, err := c.Installers(ctx)
	if err != nil || len(ins) != 1 || ins[0].Kind != sdk.Kickstart {
		t.Errorf("installers %+v %v", ins, err)
	}
	var out bytes.Buffer
	art, err := c.BuildInstaller(ctx, sdk.BuildRequest{Name: "generic", ScratchDir: t.TempDir()}, &out)
	if err != nil || art.Name != "image.tar" || !bytes.Equal(out.Bytes(), big) {
		t.Errorf("artifact %+v (%d bytes) %v", art, out.Len(), err)
	}
}

// TestStopCancelsInFlight: Stop ends a call that would never return.
func TestStopCancelsInFlight(t *testing.T) {
	impl := &full{started: make(chan struct{})}
	c := sdktest.Client(t, "demo", func() sdk.Plugin { return impl })
	errc := make(chan error, 1)
	go func() {
		_, err := c.Installers(context.Background())
		errc <- err
	}()
	<-impl.started
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("the stopped call returned %v", err)
	}
}

// TestUnsupported: a call the plugin does not implement is ErrUnsupported.
func TestUnsupported(t *testing.T) {
	c := sdktest.Client(t, "min", func() sdk.Plugin { return minimal{} })
	info, err := c.Info(context.Background(), "test")
	if err != nil || len(info.Capabilities) != 0 {
		t.Errorf("info %+v %v", info, err)
	}
	if _, err := c.Packages(context.Background()); !errors.Is(err, host.ErrUnsupported) {
		t.Errorf("Packages of a plugin without packages: %v", err)
	}
}
