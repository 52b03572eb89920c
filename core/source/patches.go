package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing/fstest"
	"time"

	"github.com/cavaliergopher/rpm"

	"github.com/quarrylinux/quarry/core/debrand"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/store"
)

// patchSet is a package's patch repository resolved to commits.
type patchSet struct {
	repo *gitRepo
	lock *lock.Patches
	// branches in application order: main first, then the target.
	branches []string
}

// resolvePatches finds the patch repository of name and the commits of its
// main and target branches. It returns nil for a package without patches.
func (im *Importer) resolvePatches(ctx context.Context, name string) (*patchSet, error) {
	cfg := im.Config
	if !cfg.HasPatches(name) {
		return nil, nil
	}
	url := cfg.Resolve(expand(cfg.Patches.URL, map[string]string{"name": name}))
	repo, err := openGit(url, im.gitCache())
	if err == nil {
		var refs map[string]string
		if refs, err = repo.refs(ctx); err == nil {
			ps := &patchSet{repo: repo, lock: &lock.Patches{URL: url, Commits: map[string]string{}}}
			for _, br := range []string{"main", cfg.Patches.Branch} {
				if h, ok := refs["refs/heads/"+br]; ok && br != "" {
					ps.lock.Commits[br] = h
					ps.branches = append(ps.branches, br)
				}
			}
			if len(ps.branches) == 0 {
				return nil, fmt.Errorf("patch repository %s has neither a main nor a %s branch", url, cfg.Patches.Branch)
			}
			return ps, nil
		}
	}
	if errors.Is(err, ErrNoRepo) {
		return nil, fmt.Errorf("patch repository %s does not exist; if %s has no patches, list it under patches.none in %s", url, name, cfg.File)
	}
	return nil, fmt.Errorf("patch repository: %w", err)
}

// debrandTree applies the patch set to a clone of upstream.
func (im *Importer) debrandTree(ctx context.Context, name string, upstream store.Tree, ps *patchSet) (store.Tree, error) {
	out := upstream.Clone()
	if ps == nil {
		return out, nil
	}
	var errs debrand.Errors
	for _, br := range ps.branches {
		tree, date, err := ps.repo.files(ctx, ps.lock.Commits[br])
		if err != nil {
			return nil, err
		}
		// Each branch's directives read files from their own branch.
		fsys := treeFS(tree)
		files, loadErrs := debrand.Load(fsys, br)
		for _, e := range loadErrs {
			e.Package = name
		}
		errs = append(errs, loadErrs...)
		errs = append(errs, debrand.Apply(im.debrandContext(ctx, name, out, fsys, date), files)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func (im *Importer) debrandContext(ctx context.Context, name string, tree store.Tree, patches fs.FS, date time.Time) *debrand.Context {
	evr := func(t store.Tree, spec string) (string, error) { return im.evr(ctx, t, spec) }
	c := &debrand.Context{Package: name, Tree: tree, Patches: patches, Date: date, EVR: evr}
	if tmpl := im.Config.Patches.Lookaside; tmpl != "" {
		c.Lookaside = func(hash string) ([]byte, error) {
			h, err := newHash(hashType(hash), hash)
			if err != nil {
				return nil, fmt.Errorf("lookaside object %q: %v", hash, err)
			}
			return im.fetchVerified(ctx, im.Config.Resolve(expand(tmpl, map[string]string{"hash": hash, "hashtype": h.Type})), h)
		}
	}
	return c
}

func hashType(h string) string {
	return map[int]string{40: "sha1", 64: "sha256", 128: "sha512"}[len(h)]
}

// treeFS exposes a tree as a read-only file system.
func treeFS(t store.Tree) fs.FS {
	m := fstest.MapFS{}
	for p, f := range t {
		mode := fs.FileMode(0o644)
		if f.Exec {
			mode = 0o755
		}
		m[p] = &fstest.MapFile{Data: f.Data, Mode: mode}
	}
	return m
}

// nvrParts splits "name-version-release" given the name.
func nvrParts(name, nvr string) (version, release string, ok bool) {
	rest, ok := strings.CutPrefix(nvr, name+"-")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, "-")
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// newestNVR picks, among name-version-release strings, name's newest by RPM
// version order, then release; those of other names are ignored (a
// version never holds a dash).
func newestNVR(name string, nvrs []string) string {
	best, bestV, bestR := "", "", ""
	for _, nvr := range nvrs {
		v, r, ok := nvrParts(name, nvr)
		if !ok || strings.Contains(v, "-") {
			continue
		}
		c := rpm.CompareVersions(v, bestV)
		if best == "" || c > 0 || (c == 0 && rpm.CompareVersions(r, bestR) > 0) {
			best, bestV, bestR = nvr, v, r
		}
	}
	return best
}

// tagNVR is the NVR of an imports/<branch>/<nvr> tag ref.
func tagNVR(ref, branch string) (string, bool) {
	p, ok := strings.CutPrefix(ref, "refs/tags/imports/"+branch+"/")
	if !ok || strings.HasSuffix(p, "^{}") || path.Base(p) != p {
		return "", false
	}
	return p, true
}
