package sdk

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// FilesFrom reads every file under dir of fsys (an embed.FS, say) as a
// package's files, with paths relative to dir.
func FilesFrom(fsys fs.FS, dir string) ([]File, error) {
	var files []File
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if info, err := d.Info(); err == nil && info.Mode().Perm()&0o111 != 0 {
			mode = 0o755
		}
		rel := p
		if dir != "." && dir != "" {
			rel = p[len(path.Clean(dir))+1:]
		}
		files = append(files, File{Path: rel, Mode: mode, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("files of %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// Git names a source package kept in a git repository at a commit.
func Git(url, commit, dir string) *GitSource {
	return &GitSource{URL: url, Commit: commit, Dir: dir}
}
