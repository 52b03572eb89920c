package compose

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
)

// Artifact is a built RPM on its way to the repositories.
type Artifact struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"` // as built, unsigned
	Name   string `json:"name"`
	Arch   string `json:"arch"` // noarch, src or a build arch
	Repo   string `json:"repo"` // the repository of its source package
	Job    string `json:"job"`  // the build job that made it
	// SIG is the SIG that ships it, or "" for the core.
	SIG string `json:"sig,omitempty"`
}

// Published is an artifact as the compose holds it.
type Published struct {
	Artifact
	Signed string   `json:"signed_sha256"`
	Paths  []string `json:"paths"` // relative to the compose root
	// Provenance is the signed in-toto statement of the job that made it.
	Provenance string `json:"provenance,omitempty"`
}

// Composer signs artifacts and lays out and indexes the repositories.
type Composer struct {
	Store *store.Store
	// Cache keeps per-repository metadata indexes and finished repodata
	// by content, so an unchanged repository is linked, not rewritten.
	Cache   string
	Key     *sign.Key
	KeyName string // RPM-GPG-KEY-<distro>
	Arches  []string
	Options Options
	// Comps maps a core repository's name to its comps.xml, published in
	// each of its arch repositories.
	Comps map[string][]byte
	// Empty are repository folders written even when no package goes
	// there, because a .repo file names them.
	Empty []string
	Log   hclog.Logger
	// Workers bounds parallel signing (default GOMAXPROCS).
	Workers int

	writing sync.Map // repodata cache key → *sync.Mutex
}

// Result is what a compose produced.
type Result struct {
	Artifacts []*Published
	Repos     []string // repository folders, relative to the root
	Signed    int      // packages signed by this run (the rest came from the cache)
	Rewritten int      // repositories whose repodata was written (the rest were linked)
}

// Add merges another compose's result into r: one publication composed
// with several keys.
func (r *Result) Add(o *Result) {
	r.Artifacts = append(r.Artifacts, o.Artifacts...)
	r.Repos = append(r.Repos, o.Repos...)
	r.Signed += o.Signed
	r.Rewritten += o.Rewritten
}

// Dirs places an artifact: binary packages in their arch's repository,
// noarch ones in every arch's, -debuginfo and -debugsource in <repo>-debug,
// sources in source/; the core's under repos/, a SIG's under sig/<sig>/.
func Dirs(a Artifact, arches []string) []string {
	base := "repos"
	if a.SIG != "" {
		base = path.Join("sig", a.SIG)
	}
	repo := a.Repo
	if strings.HasSuffix(a.Name, "-debuginfo") || strings.HasSuffix(a.Name, "-debugsource") {
		repo += "-debug"
	}
	switch a.Arch {
	case "src":
		return []string{path.Join(base, "source")}
	case "noarch":
		var out []string
		for _, arch := range arches {
			out = append(out, path.Join(base, repo, arch))
		}
		return out
	}
	return []string{path.Join(base, repo, a.Arch)}
}

// Href is a package's location inside its repository.
func Href(file string) string {
	return "Packages/" + strings.ToLower(file[:1]) + "/" + file
}

// Compose writes every artifact, signed, into root (a publish draft), with
// repodata, a signed repomd.xml and the public key in each repository.
func (c *Composer) Compose(ctx context.Context, root string, arts []Artifact) (*Result, error) {
	pub, err := c.Key.PublicArmored()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	signed, fresh, err := c.signAll(ctx, arts)
	if err != nil {
		return nil, err
	}
	res.Signed = len(fresh)
	if len(fresh) > 0 {
		// rpmkeys is the judge dnf's rpm will use: nothing it rejects is
		// published.
		bad, err := sign.RPMKeysCheck(pub, fresh)
		if err != nil {
			return nil, err
		}
		if len(bad) > 0 {
			return nil, fmt.Errorf("signed packages do not verify with rpmkeys:\n%s", strings.Join(bad, "\n"))
		}
	}
	byDir := map[string][]Input{}
	from := map[string]Artifact{} // dir/href → the artifact placed there
	for i, a := range arts {
		p := &Published{Artifact: a, Signed: signed[i]}
		for _, dir := range Dirs(a, c.Arches) {
			href := Href(a.File)
			if o, ok := from[dir+"/"+href]; ok {
				return nil, &DuplicateError{NEVRA: strings.TrimSuffix(a.File, ".rpm"), Files: [2]string{o.File + " (" + o.Job + ")", a.File + " (" + a.Job + ")"}}
			}
			from[dir+"/"+href] = a
			byDir[dir] = append(byDir[dir], Input{Href: href, Path: c.Store.Path(signed[i]), PkgID: signed[i], MTime: -1})
			p.Paths = append(p.Paths, path.Join(dir, href))
		}
		res.Artifacts = append(res.Artifacts, p)
	}
	for _, d := range c.Empty {
		if _, ok := byDir[d]; !ok {
			byDir[d] = nil
		}
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	res.Repos = dirs
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, dir := range dirs {
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			rewritten, err := c.repo(root, dir, byDir[dir], pub, c.options(dir))
			if err != nil {
				return fmt.Errorf("compose %s: %w", dir, err)
			}
			if rewritten {
				mu.Lock()
				res.Rewritten++
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(root, "keys"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "keys", c.KeyName), pub, 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

func (c *Composer) log() hclog.Logger {
	if c.Log == nil {
		return hclog.NewNullLogger()
	}
	return c.Log
}

// signAll returns the signed digest of every artifact, signing (and
// checking) only those not signed by this key before.
func (c *Composer) signAll(ctx context.Context, arts []Artifact) (signed, fresh []string, err error) {
	alias := "signed-" + c.Key.Fingerprint()
	signed = make([]string, len(arts))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	workers := c.Workers
	if workers <= 0 {
		workers = max(2, len(c.Arches))
	}
	g.SetLimit(workers)
	todo := 0
	for i, a := range arts {
		if d, ok := c.Store.Alias(alias, a.SHA256); ok && c.Store.Has(d) {
			signed[i] = d
			continue
		}
		if todo++; todo == 1 {
			c.log().Info("signing", "key", c.Key.KeyID())
		}
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			data, err := c.Store.Get(a.SHA256)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", a.File, a.Job, err)
			}
			out, err := c.Key.RPM(a.File, data)
			if err != nil {
				return err
			}
			if err := sign.VerifyRPM(c.Key.Public(), a.File, out); err != nil {
				return fmt.Errorf("%s does not verify after signing: %w", a.File, err)
			}
			d, err := c.Store.Put(out)
			if err != nil {
				return err
			}
			signed[i] = d
			mu.Lock()
			fresh = append(fresh, c.Store.Path(d))
			mu.Unlock()
			return c.Store.PutAlias(alias, a.SHA256, d)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return signed, fresh, nil
}

// options are the repodata options of one repository folder: the
// compose's, with the comps of repos/<repo>/<arch> when the config gives
// groups for <repo>.
func (c *Composer) options(dir string) Options {
	opts := c.Options
	if parts := strings.Split(dir, "/"); len(parts) == 3 && parts[0] == "repos" {
		opts.Comps = c.Comps[parts[1]]
	}
	return opts
}

// repo lays out one repository folder under root and reports whether its
// repodata had to be written (rather than linked from the cache).
func (c *Composer) repo(root, dir string, inputs []Input, pub []byte, opts Options) (bool, error) {
	idxPath := filepath.Join(c.Cache, "index", filepath.FromSlash(dir)+".index")
	idx := LoadIndex(idxPath)
	idx.Lenient = true
	up := idx.Update(inputs)
	if err := up.Err(); err != nil {
		return false, err
	}
	if err := up.Unique(); err != nil {
		return false, err
	}
	entries := up.Entries
	if err := idx.Save(idxPath); err != nil {
		return false, err
	}
	for _, e := range entries {
		if err := checkPlace(dir, e); err != nil {
			return false, err
		}
	}
	out := filepath.Join(root, filepath.FromSlash(dir))
	for _, e := range entries {
		dst := filepath.Join(out, filepath.FromSlash(e.Href))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return false, err
		}
		if err := store.Link(c.Store.Path(e.PkgID), dst); err != nil {
			return false, err
		}
		t := time.Unix(e.FileTime, 0)
		if err := os.Chtimes(dst, t, t); err != nil {
			return false, err
		}
	}
	key := c.repodataKey(entries, opts)
	cached := filepath.Join(c.Cache, "repodata", key[:2], key)
	rewritten := false
	// Two repositories with the same packages (two arches' empty or
	// noarch-only repositories) share one cache entry: one writes it.
	mu, _ := c.writing.LoadOrStore(key, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	if _, err := os.Stat(filepath.Join(cached, "repodata", "repomd.xml.asc")); err != nil {
		c.log().Info("writing repodata", "repo", dir, "packages", len(entries))
		if err := c.writeRepodata(cached, entries, opts); err != nil {
			mu.(*sync.Mutex).Unlock()
			return false, err
		}
		rewritten = true
	}
	mu.(*sync.Mutex).Unlock()
	md := filepath.Join(out, "repodata")
	if err := os.MkdirAll(md, 0o755); err != nil {
		return false, err
	}
	files, err := os.ReadDir(filepath.Join(cached, "repodata"))
	if err != nil {
		return false, err
	}
	for _, f := range files {
		if err := store.Link(filepath.Join(cached, "repodata", f.Name()), filepath.Join(md, f.Name())); err != nil {
			return false, err
		}
	}
	return rewritten, os.WriteFile(filepath.Join(out, c.KeyName), pub, 0o644)
}

// checkPlace refuses a package whose header disagrees with where it is
// published: its arch must be the repository's (or noarch; src in
// repos/source), and its file name must be what its header says.
func checkPlace(dir string, e *Entry) error {
	file := path.Base(e.Href)
	want := path.Base(dir)
	if path.Base(dir) == "source" {
		want = "src"
	}
	if e.Arch != want && (e.Arch != "noarch" || want == "src") {
		return fmt.Errorf("%s: its header says arch %s, but it is published in %s", file, e.Arch, dir)
	}
	_, vra, _ := strings.Cut(strings.TrimPrefix(e.NEVRA, e.Name+"-"), ":")
	if named := e.Name + "-" + vra + ".rpm"; file != named {
		return fmt.Errorf("%s: its header says it is %s", file, named)
	}
	return nil
}

func (c *Composer) repodataKey(entries []*Entry, opts Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "quarry-repodata-v1\x00%s\x00%d\x00%x\x00%s\n", opts.Compression, opts.Revision, sha256.Sum256(opts.Comps), c.Key.Fingerprint())
	for _, e := range entries {
		fmt.Fprintf(h, "%s %s %d\n", e.Href, e.PkgID, e.FileTime)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeRepodata writes repodata and its signature into a cache folder,
// aside first, so a cached folder is always complete.
func (c *Composer) writeRepodata(cached string, entries []*Entry, opts Options) error {
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(cached), ".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	repomd, err := WriteRepodata(tmp, entries, opts)
	if err != nil {
		return err
	}
	md, err := ParseRepomd(repomd)
	if err != nil {
		return err
	}
	var rev int64
	fmt.Sscan(md.Revision, &rev)
	asc, err := c.Key.ArmoredDetached(repomd, time.Unix(rev, 0))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "repodata", "repomd.xml.asc"), asc, 0o644); err != nil {
		return err
	}
	os.RemoveAll(cached)
	return os.Rename(tmp, cached)
}
