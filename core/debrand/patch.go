package debrand

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/quarrylinux/quarry/core/store"
	pb "github.com/quarrylinux/quarry/proto/srpmproc"
)

// patch applies git-style diffs from the patch repository to the tree.
// Without strict, diff paths outside SOURCES/ and SPECS/ are under SOURCES/.
// A diff either applies whole or changes nothing.
func patch(c *Context, cfg *pb.Cfg) []error {
	var errs []error
	for i, p := range cfg.Patch {
		where := fmt.Sprintf("patch[%d] %s", i, p.File)
		if err := applyDiff(c, p); err != nil {
			errs = append(errs, failf(where, "%v", err))
		}
	}
	return errs
}

func applyDiff(c *Context, p *pb.Patch) error {
	raw, _, err := readPatchFile(c, p.File)
	if err != nil {
		return err
	}
	files, _, err := gitdiff.Parse(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not a diff: %w", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("holds no diff")
	}
	resolve := func(name string) (string, error) {
		if p.Strict {
			return store.CleanPath(name)
		}
		return treePath(name)
	}
	// Work on a copy so that a diff that fails halfway changes nothing.
	next := c.Tree.Clone()
	for _, f := range files {
		oldPath, newPath := "", ""
		if !f.IsNew {
			if oldPath, err = resolve(f.OldName); err != nil {
				return err
			}
		}
		if !f.IsDelete {
			if newPath, err = resolve(f.NewName); err != nil {
				return err
			}
		}
		var src []byte
		var exec bool
		if !f.IsNew {
			old, ok := next[oldPath]
			if !ok {
				return fmt.Errorf("%s does not exist in the package", oldPath)
			}
			src, exec = old.Data, old.Exec
		} else if _, ok := next[newPath]; ok {
			return fmt.Errorf("creates %s, which already exists", newPath)
		}
		var out bytes.Buffer
		if err := gitdiff.Apply(&out, bytes.NewReader(src), f); err != nil {
			return fmt.Errorf("does not apply to %s: %v", strings.TrimPrefix(oldPath+newPath, oldPath), err)
		}
		if oldPath != "" {
			delete(next, oldPath)
		}
		if f.IsDelete {
			continue
		}
		if f.NewMode != 0 {
			exec = f.NewMode&0o111 != 0
		}
		next[newPath] = &store.File{Data: out.Bytes(), Exec: exec}
	}
	for k := range c.Tree {
		delete(c.Tree, k)
	}
	for k, v := range next {
		c.Tree[k] = v
	}
	return nil
}
