// Package source imports the base distribution's sources: from dist-git
// (CentOS layout with SPECS/, SOURCES/ and .<name>.metadata, or the flat
// Stream layout with a `sources` file) plus a lookaside cache, or from SRPMs.
// Each package is debranded (core/debrand), its trees land in the
// content-addressed store, and its inputs are pinned in quarry.lock.
package source

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/rpmspec"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/store"
)

// Importer imports packages of one distribution config into a store.
type Importer struct {
	Config   *config.Config
	Store    *store.Store
	StateDir string
	// Jobs bounds the packages imported at once (default: 2 per core, as
	// imports mostly wait on I/O).
	Jobs    int
	Fetcher *Fetcher
	Log     hclog.Logger
	// Progress, when set, is told of each package as it starts and ends.
	Progress func(Event)
	// Limits bound the sandboxes that read specs.
	Limits sandbox.Limits
}

// Event is a package's progress.
type Event struct {
	Package string `json:"package"`
	Status  string `json:"status"` // started, unchanged, imported, failed
	Detail  string `json:"detail,omitempty"`
}

// Request asks for one package; Ref pins another branch, tag or commit.
type Request struct {
	Name  string
	Ref   string
	Unpin bool
}

// Result is one imported package.
type Result struct {
	Name    string
	Changed bool
	Entry   *lock.Package
}

// Import imports every request into the store and returns the new lock
// entries. It changes no lock: the caller saves the lock only when every
// package succeeded, so a failed import leaves the lock as it was.
func (im *Importer) Import(ctx context.Context, lk *lock.Lock, reqs []Request) ([]Result, error) {
	if im.Fetcher == nil {
		im.Fetcher = &Fetcher{}
	}
	if im.Log == nil {
		im.Log = hclog.NewNullLogger()
	}
	jobs := im.Jobs
	if jobs <= 0 {
		jobs = 2 * runtime.NumCPU()
	}
	results := make([]Result, len(reqs))
	var (
		mu   sync.Mutex
		errs []error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i, req := range reqs {
		if !im.Config.HasPackage(req.Name) {
			return nil, fmt.Errorf("import %s: not a package of %s (add it to a repository's packages)", req.Name, im.Config.File)
		}
		g.Go(func() error {
			im.emit(Event{Package: req.Name, Status: "started"})
			entry, changed, err := im.importOne(gctx, lk.Packages[req.Name], req)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				im.emit(Event{Package: req.Name, Status: "failed", Detail: err.Error()})
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return nil // the other packages go on; the lock is not written
			}
			status := "unchanged"
			if changed {
				status = "imported"
			}
			im.emit(Event{Package: req.Name, Status: status, Detail: entry.NVR})
			results[i] = Result{Name: req.Name, Changed: changed, Entry: entry}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return nil, errors.Join(errs...)
	}
	return results, nil
}

func (im *Importer) emit(e Event) {
	if im.Progress != nil {
		im.Progress(e)
	}
}

func (im *Importer) gitCache() string { return filepath.Join(im.StateDir, "git") }

func (im *Importer) importOne(ctx context.Context, old *lock.Package, req Request) (*lock.Package, bool, error) {
	var (
		entry   *lock.Package
		changed bool
		err     error
	)
	if im.Config.Upstream.SRPMs != "" {
		entry, changed, err = im.importSRPM(ctx, old, req)
	} else {
		entry, changed, err = im.importDistGit(ctx, old, req)
	}
	if err != nil {
		return nil, false, fmt.Errorf("import %s: %w", req.Name, err)
	}
	return entry, changed, nil
}

func (im *Importer) importDistGit(ctx context.Context, old *lock.Package, req Request) (*lock.Package, bool, error) {
	dg := im.Config.Upstream.DistGit
	url := im.Config.Resolve(expand(dg.URL, map[string]string{"name": req.Name}))
	repo, err := openGit(url, im.gitCache())
	if err != nil {
		return nil, false, fmt.Errorf("dist-git: %w", err)
	}
	ref, pinned := req.Ref, req.Ref != ""
	if !pinned && !req.Unpin && old != nil && old.Upstream.Pinned {
		ref, pinned = old.Upstream.Ref, true
	}
	var commit string
	if ref == "" {
		ref, commit, err = im.defaultRef(ctx, repo, req.Name)
	} else {
		commit, err = repo.resolve(ctx, ref)
	}
	if err != nil {
		return nil, false, fmt.Errorf("dist-git: %w", err)
	}
	ps, err := im.resolvePatches(ctx, req.Name)
	if err != nil {
		return nil, false, err
	}
	up := lock.Upstream{Kind: "dist-git", URL: url, Ref: ref, Commit: commit, Pinned: pinned}
	if old != nil && old.Upstream.Commit == commit && old.Upstream.URL == url && samePatches(old.Patches, ps) &&
		im.Store.HasTree(old.Tree) && im.Store.HasTree(old.UpstreamTree) {
		e := *old
		e.Upstream.Ref, e.Upstream.Pinned = ref, pinned
		return &e, e.Upstream != old.Upstream, nil
	}
	files, _, err := repo.files(ctx, commit)
	if err != nil {
		return nil, false, fmt.Errorf("dist-git: %w", err)
	}
	tree, layout, refs, err := normalize(req.Name, files)
	if err != nil {
		return nil, false, err
	}
	up.Layout = layout
	for _, r := range refs {
		data, err := im.fetchLookaside(ctx, req.Name, r)
		if err != nil {
			return nil, false, err
		}
		tree["SOURCES/"+r.File] = &store.File{Data: data, Lookaside: true}
	}
	return im.finish(ctx, req.Name, up, tree, ps)
}

// defaultRef picks the configured branch, or the newest
// imports/<branch>/<nvr> tag by RPM version order.
func (im *Importer) defaultRef(ctx context.Context, repo *gitRepo, name string) (string, string, error) {
	dg := im.Config.Upstream.DistGit
	if !dg.Tags {
		c, err := repo.resolve(ctx, dg.Branch)
		return dg.Branch, c, err
	}
	refs, err := repo.refs(ctx)
	if err != nil {
		return "", "", err
	}
	var nvrs []string
	for ref := range refs {
		if nvr, ok := tagNVR(ref, dg.Branch); ok {
			nvrs = append(nvrs, nvr)
		}
	}
	best := newestNVR(name, nvrs)
	if best == "" {
		return "", "", fmt.Errorf("%s has no imports/%s/%s-* tag", repo.url, dg.Branch, name)
	}
	tag := "imports/" + dg.Branch + "/" + best
	c, err := repo.resolve(ctx, tag)
	return tag, c, err
}

func (im *Importer) fetchLookaside(ctx context.Context, name string, r sourceRef) ([]byte, error) {
	url := im.Config.Resolve(expand(im.Config.Upstream.Lookaside.URL, map[string]string{
		"name": name, "filename": r.File, "hashtype": r.Hash.Type, "hash": r.Hash.Value}))
	data, err := im.fetchVerified(ctx, url, r.Hash)
	if err != nil {
		return nil, fmt.Errorf("lookaside source %s: %w", r.File, err)
	}
	return data, nil
}

// fetchVerified returns the object with hash h: from the store when an
// earlier import fetched it, else from url, checked, then stored under an
// alias for h so that it is never fetched twice.
func (im *Importer) fetchVerified(ctx context.Context, url string, h Hash) ([]byte, error) {
	if d, ok := im.Store.Alias(h.Type, h.Value); ok {
		return im.Store.Get(d)
	}
	data, err := im.Fetcher.Fetch(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := h.Verify(data); err != nil {
		return nil, fmt.Errorf("from %s: %v", url, err)
	}
	d, err := im.Store.Put(data)
	if err != nil {
		return nil, err
	}
	return data, im.Store.PutAlias(h.Type, h.Value, d)
}

// finish debrands the upstream tree and stores both trees.
func (im *Importer) finish(ctx context.Context, name string, up lock.Upstream, upstream store.Tree, ps *patchSet) (*lock.Package, bool, error) {
	if err := im.checkName(ctx, name, upstream); err != nil {
		return nil, false, err
	}
	debranded, err := im.debrandTree(ctx, name, upstream, ps)
	if err != nil {
		return nil, false, err
	}
	nvr, err := im.nvr(ctx, debranded)
	if err != nil {
		return nil, false, err
	}
	upDigest, err := im.Store.PutTree(upstream)
	if err != nil {
		return nil, false, err
	}
	digest, err := im.Store.PutTree(debranded)
	if err != nil {
		return nil, false, err
	}
	e := &lock.Package{Upstream: up, Sources: map[string]string{}, UpstreamTree: upDigest, Tree: digest, NVR: nvr}
	for _, f := range upstream.Manifest().Files {
		e.Sources[f.Path] = f.Digest
	}
	if ps != nil {
		e.Patches = ps.lock
	}
	return e, true, nil
}

func samePatches(old *lock.Patches, ps *patchSet) bool {
	if ps == nil || old == nil {
		return ps == nil && old == nil
	}
	if old.URL != ps.lock.URL || len(old.Commits) != len(ps.lock.Commits) {
		return false
	}
	for k, v := range old.Commits {
		if ps.lock.Commits[k] != v {
			return false
		}
	}
	return true
}

// checkName reads the upstream spec's Name:, in a sandbox: it must be the
// package configured, or it would build as another package. (Debranding
// may rename it afterwards; the planner refuses two packages that make
// the same names.)
func (im *Importer) checkName(ctx context.Context, name string, t store.Tree) error {
	spec, err := t.Spec()
	if err != nil {
		return err
	}
	got, err := rpmspec.Query(ctx, im.Limits, t, spec, "%{name}", "dist "+im.Config.Distribution.DistTag)
	if err != nil {
		return err
	}
	if got != name {
		return fmt.Errorf("upstream %s: Name: is %q, but %s lists the package as %s", spec, got, im.Config.File, name)
	}
	return nil
}

// nvr evaluates the debranded spec with the distribution's dist tag, in a
// sandbox.
func (im *Importer) nvr(ctx context.Context, t store.Tree) (string, error) {
	spec, err := t.Spec()
	if err != nil {
		return "", err
	}
	return rpmspec.Query(ctx, im.Limits, t, spec, "%{name}-%{version}-%{release}", "dist "+im.Config.Distribution.DistTag)
}

// evr evaluates the [epoch:]version-release of the spec at spec in t,
// dist tag aside, in a sandbox, with the tree's sources beside it.
func (im *Importer) evr(ctx context.Context, t store.Tree, spec string) (string, error) {
	return rpmspec.Query(ctx, im.Limits, t, spec, "%|epoch?{%{epoch}:}|%{version}-%{release}", "dist %{nil}")
}
