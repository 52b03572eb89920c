package host

import (
	"bytes"
	"errors"
	"io"
	"runtime/metrics"
	"testing"

	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/quarrylinux/quarry/sdk"
	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
)

// fuzzMax is the byte budget of a fuzzed stream.
const fuzzMax = 1 << 20

// delimited encodes messages as a fuzz input: each length-prefixed.
func delimited(msgs ...proto.Message) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		protodelim.MarshalTo(&b, m)
	}
	return b.Bytes()
}

func fileMsg(pkg, path string, data []byte, size int64, eof bool) *sigv1.FileChunk {
	return &sigv1.FileChunk{Package: pkg, Path: path, Mode: 0o644, Data: data, Size: size, Eof: eof}
}

// FuzzStreams feeds any sequence of messages, as a plugin would stream
// them, to the Packages (kind 0), Kernels (1) and BuildInstaller (2)
// assemblers: each either refuses the stream or returns packages whose
// files are whole, unique and within the budget, and no stream makes them
// allocate more than a few times the budget, whatever sizes it announces.
func FuzzStreams(f *testing.F) {
	pkg := func(name string) *sigv1.Package { return &sigv1.Package{Name: name, Spec: name + ".spec"} }
	f.Add(uint8(0), delimited(
		&sigv1.PackagesResponse{Item: &sigv1.PackagesResponse_Package{Package: pkg("a")}},
		&sigv1.PackagesResponse{Item: &sigv1.PackagesResponse_File{File: fileMsg("a", "a.spec", []byte("Name: a\n"), 8, true)}},
		&sigv1.PackagesResponse{Item: &sigv1.PackagesResponse_File{File: fileMsg("a", "big", []byte("0123"), 8, false)}},
		&sigv1.PackagesResponse{Item: &sigv1.PackagesResponse_File{File: fileMsg("a", "big", []byte("4567"), 0, true)}},
	))
	f.Add(uint8(1), delimited(
		&sigv1.KernelsResponse{Item: &sigv1.KernelsResponse_Kernel{Kernel: &sigv1.Kernel{Flavour: "rt", Package: pkg("kernel-rt")}}},
		&sigv1.KernelsResponse{Item: &sigv1.KernelsResponse_File{File: fileMsg("kernel-rt", "kernel-rt.spec", []byte("Name: kernel-rt\n"), 16, true)}},
	))
	f.Add(uint8(2), delimited(
		&sigv1.BuildInstallerResponse{Item: &sigv1.BuildInstallerResponse_Artifact{Artifact: &sigv1.Artifact{Name: "boot.iso", Size: 6}}},
		&sigv1.BuildInstallerResponse{Item: &sigv1.BuildInstallerResponse_Chunk{Chunk: &sigv1.FileChunk{Path: "boot.iso", Data: []byte("ISO..."), Eof: true}}},
	))
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	f.Fuzz(func(t *testing.T, kind uint8, stream []byte) {
		before := allocated()
		switch kind % 3 {
		case 0:
			a := newAssembler(fuzzMax)
			if feed(stream, func() *sigv1.PackagesResponse { return &sigv1.PackagesResponse{} }, a.packagesMsg) == nil {
				if pkgs, err := a.finish(); err == nil {
					checkPackages(t, pkgs)
				}
			}
		case 1:
			k := &kernelAssembler{assembler: newAssembler(fuzzMax)}
			if feed(stream, func() *sigv1.KernelsResponse { return &sigv1.KernelsResponse{} }, k.msg) == nil {
				if kernels, err := k.finish(); err == nil {
					var pkgs []sdk.Package
					for _, kr := range kernels {
						pkgs = append(pkgs, kr.Package)
					}
					if len(kernels) != len(k.pkgs) {
						t.Fatalf("%d kernels for %d packages", len(kernels), len(k.pkgs))
					}
					checkPackages(t, pkgs)
				}
			}
		case 2:
			var out bytes.Buffer
			a := &artifactAssembler{max: fuzzMax, w: &out}
			if feed(stream, func() *sigv1.BuildInstallerResponse { return &sigv1.BuildInstallerResponse{} }, a.msg) == nil {
				if art, err := a.finish(); err == nil && (art.Name == "" || out.Len() > fuzzMax) {
					t.Fatalf("artifact %q of %d bytes", art.Name, out.Len())
				}
			}
		}
		if alloc := allocated() - before; alloc > uint64(4*fuzzMax+64*len(stream)+1<<20) {
			t.Fatalf("a stream of %d bytes made the assembler allocate %d", len(stream), alloc)
		}
	})
}

// feed decodes the stream's messages and hands each to take, stopping at
// the first it refuses; a stream that does not decode ends there, as a
// gRPC stream would.
func feed[T proto.Message](stream []byte, newMsg func() T, take func(T) error) error {
	r := bytes.NewReader(stream)
	for {
		m := newMsg()
		if err := protodelim.UnmarshalFrom(r, m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return nil
		}
		if err := take(m); err != nil {
			if !errors.Is(err, ErrGarbage) {
				panic("an assembler error that is not ErrGarbage: " + err.Error())
			}
			return err
		}
	}
}

func checkPackages(t *testing.T, pkgs []sdk.Package) {
	total := 0
	for _, p := range pkgs {
		seen := map[string]bool{}
		for _, f := range p.Files {
			if seen[f.Path] {
				t.Fatalf("package %s has %s twice", p.Name, f.Path)
			}
			seen[f.Path] = true
			total += len(f.Data)
		}
	}
	if total > fuzzMax {
		t.Fatalf("%d bytes of files for a budget of %d", total, fuzzMax)
	}
}
