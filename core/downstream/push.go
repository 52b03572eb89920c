// Package downstream publishes debranded package trees to a downstream git,
// the way srpmproc does: one repository per package, a branch per
// distribution major (r9) and a tag imports/<branch>/<nvr> per import.
//
// Quarry keeps a bare mirror of each downstream repository under its state
// folder; its branch is the history Quarry pushed. A downstream branch that
// moved elsewhere (rewritten, or committed to by hand without Quarry's
// commit as ancestor) has diverged, and is only overwritten with Force.
package downstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/hashicorp/go-hclog"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/store"
)

// Pusher pushes imported packages of one distribution.
type Pusher struct {
	Config   *config.Config
	Store    *store.Store
	StateDir string
	// URL is the downstream repository template ({name}); empty means the
	// config's push.url.
	URL string
	// Force overwrites a downstream branch or tag that diverged.
	Force bool
	Log   hclog.Logger
	// Now stamps new commits; nil means time.Now.
	Now func() time.Time
}

// Result is one package's push.
type Result struct {
	Package string `json:"package"`
	URL     string `json:"url"`
	Branch  string `json:"branch"`
	Tag     string `json:"tag"`
	Commit  string `json:"commit"`
	// Changed is false when the downstream already had this tree and tag.
	Changed bool `json:"changed"`
}

// DivergedError says a downstream ref is not where Quarry left it.
type DivergedError struct {
	URL, Ref         string
	Ours, Downstream string
	Why              string
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("%s: %s %s (ours %.12s, downstream %.12s); pass --force to overwrite it",
		e.URL, e.Ref, e.Why, e.Ours, e.Downstream)
}

// Push commits the package's debranded tree onto the downstream branch,
// tags it and pushes both.
func (p *Pusher) Push(ctx context.Context, name string, e *lock.Package) (Result, error) {
	res, err := p.push(ctx, name, e)
	if err != nil {
		return res, fmt.Errorf("push %s: %w", name, err)
	}
	return res, nil
}

func (p *Pusher) push(ctx context.Context, name string, e *lock.Package) (Result, error) {
	tmpl := p.URL
	if tmpl == "" && p.Config.Push != nil {
		tmpl = p.Config.Push.URL
	}
	if tmpl == "" {
		return Result{}, errors.New("no downstream: give --push URL or push.url in the config")
	}
	url := p.Config.Resolve(strings.ReplaceAll(tmpl, "{name}", name))
	branch := p.Config.PushBranch()
	res := Result{Package: name, URL: url, Branch: branch, Tag: "imports/" + branch + "/" + e.NVR}

	tree, err := p.Store.GetTree(e.Tree)
	if err != nil {
		return res, fmt.Errorf("debranded tree: %w (run quarry import first)", err)
	}
	if err := p.writeLookaside(tree); err != nil {
		return res, err
	}
	if err := ensureLocal(url, branch); err != nil {
		return res, err
	}
	repo, err := p.mirror(url)
	if err != nil {
		return res, err
	}
	if err := fetch(ctx, repo); err != nil {
		return res, fmt.Errorf("fetch %s: %w", url, err)
	}

	branchRef := plumbing.NewBranchReferenceName(branch)
	remoteBranch := plumbing.ReferenceName("refs/remotes/origin/heads/" + branch)
	base, force, err := p.base(repo, url, branchRef, remoteBranch)
	if err != nil {
		return res, err
	}
	treeHash, err := writeTree(repo.Storer, name, tree)
	if err != nil {
		return res, fmt.Errorf("write git objects: %w", err)
	}
	head := base
	if base.IsZero() || treeOf(repo, base) != treeHash {
		head, err = p.commit(repo, treeHash, base, e)
		if err != nil {
			return res, fmt.Errorf("commit: %w", err)
		}
	}
	res.Commit = head.String()

	// The tag stays where it is when it already names this content.
	tagRef := plumbing.NewTagReferenceName(res.Tag)
	remoteTag := ref(repo, plumbing.ReferenceName("refs/remotes/origin/tags/"+res.Tag))
	tagged, tagForce := head, false
	if !remoteTag.IsZero() && remoteTag != head {
		switch {
		case treeOf(repo, remoteTag) == treeHash:
			tagged = remoteTag
		case !p.Force:
			return res, &DivergedError{URL: url, Ref: "tag " + res.Tag, Ours: head.String(), Downstream: remoteTag.String(),
				Why: "already tags other content (was the release not bumped?)"}
		default:
			tagForce = true
		}
	}
	res.Changed = ref(repo, remoteBranch) != head || remoteTag != tagged
	for _, r := range []*plumbing.Reference{
		plumbing.NewHashReference(branchRef, head),
		plumbing.NewHashReference(tagRef, tagged),
	} {
		if err := repo.Storer.SetReference(r); err != nil {
			return res, err
		}
	}
	if !res.Changed {
		return res, nil
	}
	specs := []gitconfig.RefSpec{refspec(branchRef, force), refspec(tagRef, tagForce)}
	err = repo.PushContext(ctx, &git.PushOptions{RemoteName: "origin", RefSpecs: specs})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return res, fmt.Errorf("push to %s: %w", url, err)
	}
	p.log().Info("pushed", "package", name, "url", url, "branch", branch, "tag", res.Tag, "commit", res.Commit)
	return res, nil
}

// base picks the commit the new import goes on top of, and whether the
// branch push must be forced.
func (p *Pusher) base(repo *git.Repository, url string, local, remote plumbing.ReferenceName) (plumbing.Hash, bool, error) {
	ours, theirs := ref(repo, local), ref(repo, remote)
	switch {
	case ours.IsZero():
		return theirs, false, nil // first push from this state: build on what is there
	case theirs.IsZero(), ours == theirs, isAncestor(repo, theirs, ours):
		return ours, false, nil
	case isAncestor(repo, ours, theirs):
		return theirs, false, nil // pushed on top of ours since: keep it
	case p.Force:
		p.log().Warn("overwriting a diverged downstream branch", "url", url, "branch", local.Short(), "was", theirs.String())
		return ours, true, nil
	}
	return plumbing.ZeroHash, false, &DivergedError{URL: url, Ref: "branch " + local.Short(),
		Ours: ours.String(), Downstream: theirs.String(), Why: "has diverged from the history Quarry pushed"}
}

func (p *Pusher) commit(repo *git.Repository, tree, parent plumbing.Hash, e *lock.Package) (plumbing.Hash, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	sig := object.Signature{Name: "Quarry", Email: "quarry@localhost", When: now().UTC().Truncate(time.Second)}
	if a, err := mail.ParseAddress(p.Config.Distribution.Packager); err == nil {
		sig.Name, sig.Email = a.Name, a.Address
	}
	c := &object.Commit{Author: sig, Committer: sig, TreeHash: tree, Message: message(e)}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	return storeObject(repo.Storer, c)
}

// message records where the tree came from, so the downstream history
// explains itself without the lock.
func message(e *lock.Package) string {
	var b strings.Builder
	fmt.Fprintf(&b, "import %s\n\n", e.NVR)
	up := e.Upstream.Commit
	if e.Upstream.Kind == "srpm" {
		up = "sha256:" + e.Upstream.SHA256
	}
	fmt.Fprintf(&b, "Upstream: %s %s\n", e.Upstream.URL, up)
	if e.Patches != nil {
		branches := make([]string, 0, len(e.Patches.Commits))
		for br := range e.Patches.Commits {
			branches = append(branches, br)
		}
		sort.Strings(branches)
		for _, br := range branches {
			fmt.Fprintf(&b, "Patches: %s %s %s\n", e.Patches.URL, br, e.Patches.Commits[br])
		}
	}
	fmt.Fprintf(&b, "Quarry-Tree: sha256:%s\n", e.Tree)
	return b.String()
}

// writeLookaside copies the tree's lookaside files into push.lookaside.
func (p *Pusher) writeLookaside(t store.Tree) error {
	if p.Config.Push == nil || p.Config.Push.Lookaside == "" {
		return nil
	}
	dir := p.Config.Resolve(p.Config.Push.Lookaside)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lookaside: %w", err)
	}
	for _, path := range t.Paths() {
		f := t[path]
		if !f.Lookaside {
			continue
		}
		dst := filepath.Join(dir, store.Digest(f.Data))
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := store.WriteFile(dst, f.Data, 0o644); err != nil {
			return fmt.Errorf("lookaside %s: %w", path, err)
		}
	}
	return nil
}

// mirror opens (or creates) the bare mirror of a downstream repository.
func (p *Pusher) mirror(url string) (*git.Repository, error) {
	sum := sha256.Sum256([]byte(url))
	dir := filepath.Join(p.StateDir, "downstream", hex.EncodeToString(sum[:8])+".git")
	repo, err := git.PlainOpen(dir)
	if err == nil {
		return repo, nil
	}
	repo, err = git.PlainInit(dir, true)
	if err != nil {
		return nil, fmt.Errorf("mirror of %s: %w", url, err)
	}
	_, err = repo.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{url}, Fetch: []gitconfig.RefSpec{
		"+refs/heads/*:refs/remotes/origin/heads/*", "+refs/tags/*:refs/remotes/origin/tags/*"}})
	if err != nil {
		return nil, fmt.Errorf("mirror of %s: %w", url, err)
	}
	return repo, nil
}

func (p *Pusher) log() hclog.Logger {
	if p.Log == nil {
		return hclog.NewNullLogger()
	}
	return p.Log
}

// ensureLocal creates a missing local downstream repository (bare), so a
// folder of downstream repositories needs no set-up; remote ones must exist.
func ensureLocal(url, branch string) error {
	path, ok := strings.CutPrefix(url, "file://")
	if !ok && strings.Contains(url, "://") {
		return nil
	}
	if strings.Contains(path, "@") && !ok {
		return nil // scp-like user@host:path
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	repo, err := git.PlainInit(path, true)
	if err == nil {
		// HEAD names the branch Quarry pushes, so a clone checks it out.
		err = repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(branch)))
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

func fetch(ctx context.Context, repo *git.Repository) error {
	err := repo.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", Prune: true})
	if errors.Is(err, git.NoErrAlreadyUpToDate) || errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return nil
	}
	return err
}

func ref(repo *git.Repository, name plumbing.ReferenceName) plumbing.Hash {
	r, err := repo.Reference(name, true)
	if err != nil {
		return plumbing.ZeroHash
	}
	return r.Hash()
}

func treeOf(repo *git.Repository, commit plumbing.Hash) plumbing.Hash {
	c, err := repo.CommitObject(commit)
	if err != nil {
		return plumbing.ZeroHash
	}
	return c.TreeHash
}

// isAncestor says whether a is b or one of b's ancestors.
func isAncestor(repo *git.Repository, a, b plumbing.Hash) bool {
	ca, err := repo.CommitObject(a)
	if err != nil {
		return false
	}
	cb, err := repo.CommitObject(b)
	if err != nil {
		return false
	}
	ok, err := ca.IsAncestor(cb)
	return err == nil && ok
}

func refspec(name plumbing.ReferenceName, force bool) gitconfig.RefSpec {
	s := name.String() + ":" + name.String()
	if force {
		s = "+" + s
	}
	return gitconfig.RefSpec(s)
}
