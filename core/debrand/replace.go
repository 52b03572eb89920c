package debrand

import (
	"fmt"

	pb "github.com/quarrylinux/quarry/proto/srpmproc"
)

// replace swaps the content of an existing file of the tree.
func replace(c *Context, cfg *pb.Cfg) []error {
	var errs []error
	for i, r := range cfg.Replace {
		where := fmt.Sprintf("replace[%d] %s", i, r.File)
		p, err := treePath(r.File)
		if err != nil {
			errs = append(errs, failf(where, "%v", err))
			continue
		}
		old, ok := c.Tree[p]
		if !ok {
			errs = append(errs, failf(where, "%s does not exist in the package", p))
			continue
		}
		var data []byte
		switch w := r.Replacing.(type) {
		case *pb.Replace_WithFile:
			data, _, err = readPatchFile(c, w.WithFile)
		case *pb.Replace_WithInline:
			data = []byte(w.WithInline)
		case *pb.Replace_WithLookaside:
			data, err = fetchLookaside(c, w.WithLookaside)
		default:
			err = fmt.Errorf("says nothing to replace it with (with_file, with_inline or with_lookaside)")
		}
		if err != nil {
			errs = append(errs, failf(where, "%v", err))
			continue
		}
		c.Tree[p] = &storeFile{Data: data, Exec: old.Exec, Lookaside: old.Lookaside}
	}
	return errs
}
