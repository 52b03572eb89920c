package build

import (
	"bytes"
	"debug/elf"
	"fmt"

	"github.com/quarrylinux/quarry/core/arch"
	"github.com/quarrylinux/quarry/core/rpmfile"
)

// checkELF checks every ELF file of a built RPM against the job's arch; a
// noarch RPM must have none. This catches a cross build that silently used
// the host compiler.
func checkELF(file string, rpm *rpmfile.File, jobArch string) error {
	files, err := rpm.Files()
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	want, known := arch.Lookup(jobArch)
	for path, f := range files {
		if len(f.Data) < 4 || !bytes.Equal(f.Data[:4], []byte(elf.ELFMAG)) {
			continue
		}
		if rpm.Architecture() == arch.Noarch {
			return fmt.Errorf("%s is noarch but /%s is an ELF file", file, path)
		}
		ef, err := elf.NewFile(bytes.NewReader(f.Data))
		if err != nil {
			return fmt.Errorf("%s: /%s: unreadable ELF: %v", file, path, err)
		}
		if !known {
			continue
		}
		if err := want.CheckELF(&ef.FileHeader); err != nil {
			return fmt.Errorf("%s: /%s %v", file, path, err)
		}
	}
	return nil
}
