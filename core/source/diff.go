package source

import (
	"context"
	"fmt"
	"sort"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/store"
)

// Diff shows, as a unified diff, what a package's directives do to its
// imported upstream tree, with the patch repository as it is now. It
// writes nothing.
func (im *Importer) Diff(ctx context.Context, lk *lock.Lock, name string) (string, error) {
	e := lk.Packages[name]
	if e == nil {
		return "", fmt.Errorf("debrand %s: not imported yet; run `quarry import %s` first", name, name)
	}
	upstream, err := im.Store.GetTree(e.UpstreamTree)
	if err != nil {
		return "", fmt.Errorf("debrand %s: %w", name, err)
	}
	ps, err := im.resolvePatches(ctx, name)
	if err != nil {
		return "", fmt.Errorf("debrand %s: %w", name, err)
	}
	debranded, err := im.debrandTree(ctx, name, upstream, ps)
	if err != nil {
		return "", err
	}
	return DiffTrees(upstream, debranded), nil
}

// DiffTrees is the unified diff from a to b; binary and lookaside files are
// summarised by digest.
func DiffTrees(a, b store.Tree) string {
	paths := a.Paths()
	for _, p := range b.Paths() {
		if a[p] == nil {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var out strings.Builder
	for _, p := range paths {
		fa, fb := a[p], b[p]
		var da, db []byte
		if fa != nil {
			da = fa.Data
		}
		if fb != nil {
			db = fb.Data
		}
		if fa != nil && fb != nil && string(da) == string(db) {
			continue
		}
		oldName, newName := "a/"+p, "b/"+p
		if fa == nil {
			oldName = "/dev/null"
		}
		if fb == nil {
			newName = "/dev/null"
		}
		if isBinary(da) || isBinary(db) || (fa != nil && fa.Lookaside) || (fb != nil && fb.Lookaside) {
			fmt.Fprintf(&out, "--- %s\n+++ %s\n@@ binary or lookaside: %s -> %s @@\n", oldName, newName, short(da, fa), short(db, fb))
			continue
		}
		out.WriteString(udiff.Unified(oldName, newName, string(da), string(db)))
	}
	return out.String()
}

func isBinary(b []byte) bool {
	return strings.ContainsRune(string(b[:min(len(b), 8000)]), 0)
}

func short(b []byte, f *store.File) string {
	if f == nil {
		return "(none)"
	}
	return fmt.Sprintf("sha256:%s (%d bytes)", store.Digest(b)[:12], len(b))
}
