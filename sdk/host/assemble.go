package host

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/quarrylinux/quarry/sdk"
	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
)

// The assemblers put a plugin's streams back together, one message at a
// time; they are all the client does with a stream's contents, so that
// they can be tested (and fuzzed) without gRPC. Every message is
// untrusted: what a message announces is believed only as far as the
// stream's byte budget goes.

// assembler puts streamed packages back together.
type assembler struct {
	max      int64
	total    int64 // bytes received
	reserved int64 // bytes preallocated for open files and not yet received
	pkgs     []*sdk.Package
	by       map[string]*sdk.Package
	open     map[string]*openFile // package/path → the file being received
	done     map[string]bool      // package/path of files received whole
}

type openFile struct {
	index    int
	reserved int64
}

func newAssembler(max int64) *assembler {
	return &assembler{max: max, by: map[string]*sdk.Package{}, open: map[string]*openFile{}, done: map[string]bool{}}
}

// packagesMsg takes one message of the Packages stream.
func (a *assembler) packagesMsg(msg *sigv1.PackagesResponse) error {
	switch item := msg.Item.(type) {
	case *sigv1.PackagesResponse_Package:
		_, err := a.header(item.Package)
		return err
	case *sigv1.PackagesResponse_File:
		return a.chunk(item.File)
	}
	return fmt.Errorf("%w: an empty stream message", ErrGarbage)
}

func (a *assembler) header(w *sigv1.Package) (*sdk.Package, error) {
	if w == nil || w.Name == "" {
		return nil, fmt.Errorf("%w: a package without a name", ErrGarbage)
	}
	if _, dup := a.by[w.Name]; dup {
		return nil, fmt.Errorf("%w: package %s sent twice", ErrGarbage, w.Name)
	}
	p := packageFromHeader(w)
	a.pkgs = append(a.pkgs, &p)
	a.by[p.Name] = &p
	return &p, nil
}

func (a *assembler) chunk(c *sigv1.FileChunk) error {
	if c == nil {
		return fmt.Errorf("%w: an empty stream message", ErrGarbage)
	}
	p := a.by[c.Package]
	if p == nil {
		return fmt.Errorf("%w: file %q of package %q, which was not announced", ErrGarbage, c.Path, c.Package)
	}
	n := int64(len(c.Data))
	a.total += n
	if a.total > a.max {
		return fmt.Errorf("%w: more than %d bytes of sources", ErrGarbage, a.max)
	}
	key := c.Package + "\x00" + c.Path
	if a.done[key] {
		return fmt.Errorf("%w: file %s of package %s sent twice", ErrGarbage, c.Path, c.Package)
	}
	f, ok := a.open[key]
	if !ok {
		file := sdk.File{Path: c.Path, Mode: fileMode(c.Mode)}
		f = &openFile{index: len(p.Files)}
		// The announced size saves regrowing, if it fits the budget with
		// what every other open file announced: the sum of what is
		// allocated never passes max, however many files announce it.
		if c.Size > n && c.Size-n <= a.max-a.total-a.reserved {
			file.Data = make([]byte, 0, c.Size)
			f.reserved = c.Size - n
			a.reserved += f.reserved
		}
		p.Files = append(p.Files, file)
		a.open[key] = f
	} else {
		used := min(f.reserved, n)
		f.reserved -= used
		a.reserved -= used
	}
	p.Files[f.index].Data = append(p.Files[f.index].Data, c.Data...)
	if c.Eof {
		a.reserved -= f.reserved
		delete(a.open, key)
		a.done[key] = true
	}
	return nil
}

func (a *assembler) finish() ([]sdk.Package, error) {
	for key := range a.open {
		pkg, file, _ := strings.Cut(key, "\x00")
		return nil, fmt.Errorf("%w: file %s of package %s ended without its last chunk", ErrGarbage, file, pkg)
	}
	out := make([]sdk.Package, len(a.pkgs))
	for i, p := range a.pkgs {
		out[i] = *p
	}
	return out, nil
}

// kernelAssembler puts the Kernels stream back together: each kernel
// message announces its package, whose files follow as for Packages.
type kernelAssembler struct {
	*assembler
	kernels []sdk.Kernel
}

func (k *kernelAssembler) msg(msg *sigv1.KernelsResponse) error {
	switch item := msg.Item.(type) {
	case *sigv1.KernelsResponse_Kernel:
		if item.Kernel == nil {
			return fmt.Errorf("%w: an empty kernel", ErrGarbage)
		}
		if _, err := k.header(item.Kernel.Package); err != nil {
			return err
		}
		k.kernels = append(k.kernels, sdk.Kernel{Flavour: item.Kernel.Flavour, Configs: item.Kernel.Configs})
		return nil
	case *sigv1.KernelsResponse_File:
		return k.chunk(item.File)
	}
	return fmt.Errorf("%w: an empty stream message", ErrGarbage)
}

func (k *kernelAssembler) finish() ([]sdk.Kernel, error) {
	pkgs, err := k.assembler.finish()
	if err != nil {
		return nil, err
	}
	for i := range k.kernels {
		k.kernels[i].Package = pkgs[i]
	}
	return k.kernels, nil
}

// artifactAssembler writes the BuildInstaller stream's one artifact to w.
type artifactAssembler struct {
	max   int64
	total int64
	w     io.Writer
	art   *sdk.Artifact
}

func (a *artifactAssembler) msg(msg *sigv1.BuildInstallerResponse) error {
	switch item := msg.Item.(type) {
	case *sigv1.BuildInstallerResponse_Artifact:
		if a.art != nil || item.Artifact == nil || item.Artifact.Name == "" || path.Base(item.Artifact.Name) != item.Artifact.Name {
			return fmt.Errorf("%w: a second or unnamed artifact", ErrGarbage)
		}
		a.art = &sdk.Artifact{Name: item.Artifact.Name, MediaType: item.Artifact.MediaType, Packages: item.Artifact.Packages}
	case *sigv1.BuildInstallerResponse_Chunk:
		if a.art == nil || item.Chunk == nil {
			return fmt.Errorf("%w: bytes before the artifact", ErrGarbage)
		}
		if a.total += int64(len(item.Chunk.Data)); a.total > a.max {
			return fmt.Errorf("%w: more than %d bytes", ErrGarbage, a.max)
		}
		_, err := a.w.Write(item.Chunk.Data)
		return err
	}
	return nil
}

func (a *artifactAssembler) finish() (sdk.Artifact, error) {
	if a.art == nil {
		return sdk.Artifact{}, fmt.Errorf("%w: no artifact", ErrGarbage)
	}
	return *a.art, nil
}
