package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/quarrylinux/quarry/core/store"
)

// ErrNoRepo is returned when a git repository does not exist (a missing
// local folder, or a remote that says so).
var ErrNoRepo = errors.New("repository does not exist")

// gitRepo reads one upstream git repository. A local repository (a path or
// file:// URL) is read in place; a remote one is mirrored under the state
// folder and fetched only when a wanted commit is missing, so a re-import
// with nothing new upstream downloads nothing.
type gitRepo struct {
	url    string
	local  bool
	mirror string
	repo   *git.Repository
}

func openGit(url, cacheDir string) (*gitRepo, error) {
	if path, ok := localPath(url); ok {
		r, err := git.PlainOpen(path)
		if errors.Is(err, git.ErrRepositoryNotExists) || os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: %w", url, ErrNoRepo)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", url, err)
		}
		return &gitRepo{url: url, local: true, repo: r}, nil
	}
	sum := sha256.Sum256([]byte(url))
	return &gitRepo{url: url, mirror: filepath.Join(cacheDir, hex.EncodeToString(sum[:8])+".git")}, nil
}

func localPath(url string) (string, bool) {
	if p, ok := strings.CutPrefix(url, "file://"); ok {
		return p, true
	}
	if !strings.Contains(url, "://") && !strings.Contains(url, "@") {
		return url, true
	}
	return "", false
}

// refs lists the repository's references by full name; an annotated
// tag also as <name>^{} with the commit it points to, as a remote lists
// it (git.AppendPeeled).
func (g *gitRepo) refs(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	if g.local {
		iter, err := g.repo.References()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.url, err)
		}
		err = iter.ForEach(func(r *plumbing.Reference) error {
			if r.Type() != plumbing.HashReference {
				return nil
			}
			out[r.Name().String()] = r.Hash().String()
			if r.Name().IsTag() {
				// A tag that does not peel is left unpeeled, as a remote
				// listing leaves it: importing it fails by its name, the
				// other tags still work.
				if c, peeled, err := peel(g.repo, r.Hash()); err == nil && peeled {
					out[r.Name().String()+"^{}"] = c.String()
				}
			}
			return nil
		})
		return out, err
	}
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{g.url}})
	list, err := remote.ListContext(ctx, &git.ListOptions{PeelingOption: git.AppendPeeled})
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return nil, fmt.Errorf("%s: %w", g.url, ErrNoRepo)
		}
		return nil, fmt.Errorf("%s does not answer: %w", g.url, err)
	}
	for _, r := range list {
		if r.Type() == plumbing.HashReference {
			out[r.Name().String()] = r.Hash().String()
		}
	}
	return out, nil
}

// peel follows an annotated tag (or a tag of a tag) to what it tags, and
// tells whether h was a tag object; any other object is itself.
func peel(r *git.Repository, h plumbing.Hash) (plumbing.Hash, bool, error) {
	peeled := false
	for i := 0; ; i++ {
		tag, err := r.TagObject(h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return h, peeled, nil
		}
		if err != nil {
			return h, peeled, err
		}
		if i == 16 {
			return h, peeled, fmt.Errorf("more than %d tags of tags", i)
		}
		h, peeled = tag.Target, true
	}
}

// resolve turns a branch, tag or commit into a commit hash.
func (g *gitRepo) resolve(ctx context.Context, ref string) (string, error) {
	refs, err := g.refs(ctx)
	if err != nil {
		return "", err
	}
	for _, full := range []string{"refs/heads/" + ref, "refs/tags/" + ref + "^{}", "refs/tags/" + ref, ref} {
		if h, ok := refs[full]; ok {
			return h, nil
		}
	}
	if plumbing.IsHash(ref) {
		return ref, nil
	}
	return "", fmt.Errorf("%s has no branch or tag %q", g.url, ref)
}

// commit returns a commit object, fetching the mirror when it lacks it.
func (g *gitRepo) commit(ctx context.Context, hash string) (*object.Commit, error) {
	if !g.local && g.repo == nil {
		r, err := git.PlainOpen(g.mirror)
		if err != nil {
			r, err = git.PlainInit(g.mirror, true)
			if err == nil {
				_, err = r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{g.url},
					Fetch: []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}})
			}
			if err != nil {
				return nil, fmt.Errorf("mirror %s: %w", g.url, err)
			}
		}
		g.repo = r
	}
	c, err := g.commitObject(hash)
	if err == nil || g.local {
		if err != nil {
			return nil, fmt.Errorf("%s: commit %s: %w", g.url, hash, err)
		}
		return c, nil
	}
	err = g.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", Tags: git.AllTags})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil, fmt.Errorf("fetch %s: %w", g.url, err)
	}
	c, err = g.commitObject(hash)
	if err != nil {
		return nil, fmt.Errorf("%s: commit %s: %w", g.url, hash, err)
	}
	return c, nil
}

// commitObject reads the commit hash names, through an annotated tag.
func (g *gitRepo) commitObject(hash string) (*object.Commit, error) {
	h, _, err := peel(g.repo, plumbing.NewHash(hash))
	if err != nil {
		return nil, err
	}
	return g.repo.CommitObject(h)
}

// files reads the tree of a commit.
func (g *gitRepo) files(ctx context.Context, hash string) (store.Tree, time.Time, error) {
	c, err := g.commit(ctx, hash)
	if err != nil {
		return nil, time.Time{}, err
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, time.Time{}, err
	}
	out, err := TreeFiles(g.url, tree)
	return out, c.Committer.When.UTC(), err
}

// TreeFiles reads every file of a git tree; where names the repository in
// errors. A symlink or a submodule is refused: only regular files are
// sources, and a link could point out of the package.
func TreeFiles(where string, tree *object.Tree) (store.Tree, error) {
	out := store.Tree{}
	err := tree.Files().ForEach(func(f *object.File) error {
		switch f.Mode {
		case filemode.Symlink:
			return fmt.Errorf("%s: %s is a symlink; only regular files are imported", where, f.Name)
		case filemode.Submodule:
			return fmt.Errorf("%s: %s is a submodule; only regular files are imported", where, f.Name)
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		out[f.Name] = &store.File{Data: data, Exec: f.Mode == filemode.Executable}
		return nil
	})
	return out, err
}
