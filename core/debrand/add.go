package debrand

import (
	"fmt"
	"path"

	pb "github.com/quarrylinux/quarry/proto/srpmproc"
)

// add puts a file of the patch repository, or a lookaside object, into
// SOURCES/ (or where its name says).
func add(c *Context, cfg *pb.Cfg) []error {
	var errs []error
	for i, a := range cfg.Add {
		var (
			name, src string
			data      []byte
			exec      bool
			lookaside bool
			err       error
		)
		switch s := a.Source.(type) {
		case *pb.Add_File:
			src = s.File
			name = path.Base(s.File)
			data, exec, err = readPatchFile(c, s.File)
		case *pb.Add_Lookaside:
			src = s.Lookaside
			name = s.Lookaside
			lookaside = true
			data, err = fetchLookaside(c, s.Lookaside)
		default:
			err = fmt.Errorf("names no file or lookaside object to add")
		}
		where := fmt.Sprintf("add[%d] %s", i, src)
		if err != nil {
			errs = append(errs, failf(where, "%v", err))
			continue
		}
		if a.Name != "" {
			name = a.Name
		}
		p, err := treePath(name)
		if err != nil {
			errs = append(errs, failf(where, "%v", err))
			continue
		}
		c.Tree[p] = &storeFile{Data: data, Exec: exec, Lookaside: lookaside}
	}
	return errs
}
