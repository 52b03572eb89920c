package debrand

import (
	"fmt"

	"github.com/quarrylinux/quarry/core/store"
	pb "github.com/quarrylinux/quarry/proto/srpmproc"
)

type storeFile = store.File

// del removes files from the tree; the path is taken as written, as
// srpmproc does (SOURCES/x, not x).
func del(c *Context, cfg *pb.Cfg) []error {
	var errs []error
	for i, d := range cfg.Delete {
		where := fmt.Sprintf("delete[%d] %s", i, d.File)
		p, err := store.CleanPath(d.File)
		if err != nil {
			errs = append(errs, failf(where, "%v", err))
			continue
		}
		if _, ok := c.Tree[p]; !ok {
			errs = append(errs, failf(where, "%s does not exist in the package", p))
			continue
		}
		delete(c.Tree, p)
	}
	return errs
}
