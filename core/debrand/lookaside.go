package debrand

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"path"

	pb "github.com/quarrylinux/quarry/proto/srpmproc"
)

// lookaside moves files out of git: each is marked as a lookaside source,
// or, with tar, all are packed into SOURCES/<archive_name>.tar.gz, which is
// marked instead. With from_patch_tree the files come from the patch
// repository. Archives are reproducible: sorted as listed, dated c.Date.
func lookaside(c *Context, cfg *pb.Cfg) []error {
	var errs []error
	for i, l := range cfg.Lookaside {
		where := fmt.Sprintf("lookaside[%d]", i)
		if err := moveToLookaside(c, l); err != nil {
			errs = append(errs, failf(where, "%v", err))
		}
	}
	return errs
}

func moveToLookaside(c *Context, l *pb.Lookaside) error {
	if len(l.File) == 0 {
		return fmt.Errorf("lists no file")
	}
	if l.Tar && l.ArchiveName == "" {
		return fmt.Errorf("tar needs archive_name")
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.ModTime = c.Date
	tw := tar.NewWriter(gz)
	for _, name := range l.File {
		var data []byte
		var exec bool
		var err error
		if l.FromPatchTree {
			data, exec, err = readPatchFile(c, name)
		} else {
			var p string
			if p, err = treePath(name); err == nil {
				f, ok := c.Tree[p]
				if !ok {
					err = fmt.Errorf("%s does not exist in the package", p)
				} else {
					data, exec = f.Data, f.Exec
				}
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if l.Tar {
			mode := int64(0o644)
			if exec {
				mode = 0o755
			}
			hdr := &tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: c.Date, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := tw.Write(data); err != nil {
				return err
			}
			continue
		}
		// Files from the patch repository land in SOURCES/ by base name.
		if l.FromPatchTree {
			name = path.Base(name)
		}
		dest, err := treePath(name)
		if err != nil {
			return err
		}
		c.Tree[dest] = &storeFile{Data: data, Exec: exec, Lookaside: true}
	}
	if !l.Tar {
		return nil
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	c.Tree["SOURCES/"+l.ArchiveName+".tar.gz"] = &storeFile{Data: buf.Bytes(), Lookaside: true}
	return nil
}
