package intake

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/quarrylinux/quarry/core/source"
	"github.com/quarrylinux/quarry/sdk"
)

// gitFiles fetches a SIG package kept in git (the host fetches; the
// plugin has no network) and returns the files under its folder at the
// commit. A symlink is refused: it could point out of the package.
func gitFiles(ctx context.Context, src sdk.GitSource) ([]sdk.File, error) {
	// The gate checked the URL against the SIG's allowed sources and the
	// commit; this is the last line: never a scheme that would use the
	// host's credentials or reach beyond what was listed.
	if !strings.HasPrefix(src.URL, "https://") && !strings.HasPrefix(src.URL, "file://") {
		return nil, fmt.Errorf("git source %s: only https:// and listed file:// sources are fetched", src.URL)
	}
	if src.Commit == "" {
		return nil, fmt.Errorf("git source %s names no commit", src.URL)
	}
	repo, err := git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{URL: src.URL, NoCheckout: true, Tags: git.NoTags})
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", src.URL, err)
	}
	hash, err := repo.ResolveRevision(plumbing.Revision(src.Commit))
	if err != nil {
		return nil, fmt.Errorf("%s: commit %s: %w", src.URL, src.Commit, err)
	}
	commit, err := repo.CommitObject(*hash)
	if err != nil {
		return nil, fmt.Errorf("%s: commit %s: %w", src.URL, src.Commit, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, err
	}
	dir := strings.Trim(src.Dir, "/")
	if dir != "" {
		if tree, err = tree.Tree(dir); err != nil {
			return nil, fmt.Errorf("%s@%s: folder %s: %w", src.URL, src.Commit, dir, err)
		}
	}
	t, err := source.TreeFiles(src.URL+"@"+src.Commit, tree)
	if err != nil {
		return nil, err
	}
	var files []sdk.File
	for _, p := range t.Paths() {
		mode := fs.FileMode(0o644)
		if t[p].Exec {
			mode = 0o755
		}
		files = append(files, sdk.File{Path: p, Mode: mode, Data: t[p].Data})
	}
	return files, nil
}
