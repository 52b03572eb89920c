// Package publish makes a compose current atomically. A compose is
// assembled in out/composes/.draft-*, renamed to out/composes/<id> when it
// is complete, and published by replacing the out/current symlink with one
// rename. Readers see the old publication or the new one, never a mix; a
// run killed at any point leaves at most a draft, which nothing trusts and
// the next run removes.
package publish

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

const (
	composesDir = "composes"
	currentLink = "current"
	draftPrefix = ".draft-"
)

// Publisher manages one published tree.
type Publisher struct {
	Out  string
	Keep int // composes kept on disk, current included (default 3)
}

// Draft is a compose being assembled.
type Draft struct {
	p   *Publisher
	dir string
}

// Dir is where the compose's files go.
func (d *Draft) Dir() string { return d.dir }

// Begin removes drafts left by killed runs and starts a new one.
func (p *Publisher) Begin() (*Draft, error) {
	root := filepath.Join(p.Out, composesDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), draftPrefix) {
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				return nil, fmt.Errorf("remove an interrupted compose: %w", err)
			}
		}
	}
	dir, err := os.MkdirTemp(root, draftPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	return &Draft{p: p, dir: dir}, nil
}

// Discard drops an unfinished draft.
func (d *Draft) Discard() { os.RemoveAll(d.dir) }

// Commit names the draft and makes it current; it returns the compose id.
func (d *Draft) Commit(now time.Time) (string, error) {
	root := filepath.Join(d.p.Out, composesDir)
	base := now.UTC().Format("20060102.150405")
	id := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(filepath.Join(root, id)); errors.Is(err, os.ErrNotExist) {
			break
		}
		id = fmt.Sprintf("%s.%d", base, i)
	}
	if err := syncTree(d.dir); err != nil {
		return "", err
	}
	if err := os.Rename(d.dir, filepath.Join(root, id)); err != nil {
		return "", err
	}
	if err := d.p.point(id); err != nil {
		return "", err
	}
	return id, d.p.prune()
}

// point makes current refer to composes/id with one rename.
func (p *Publisher) point(id string) error {
	tmp := filepath.Join(p.Out, ".current-"+id)
	os.Remove(tmp)
	if err := os.Symlink(filepath.Join(composesDir, id), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(p.Out, currentLink)); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(p.Out)
}

// Current is the id of the current compose, or "" when nothing is published.
func (p *Publisher) Current() (string, error) {
	target, err := os.Readlink(filepath.Join(p.Out, currentLink))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return filepath.Base(target), nil
}

// CurrentDir is the current compose's folder, or "" when nothing is
// published.
func (p *Publisher) CurrentDir() string {
	id, err := p.Current()
	if err != nil || id == "" {
		return ""
	}
	return filepath.Join(p.Out, composesDir, id)
}

// List returns the finished composes, oldest first.
func (p *Publisher) List() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(p.Out, composesDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Rollback makes the compose before the current one current again.
func (p *Publisher) Rollback() (from, to string, err error) {
	cur, err := p.Current()
	if err != nil {
		return "", "", err
	}
	if cur == "" {
		return "", "", errors.New("nothing is published")
	}
	ids, err := p.List()
	if err != nil {
		return "", "", err
	}
	i := slices.Index(ids, cur)
	if i < 1 {
		return "", "", fmt.Errorf("compose %s has no earlier compose to go back to", cur)
	}
	prev := ids[i-1]
	return cur, prev, p.point(prev)
}

// prune removes the oldest composes beyond Keep, never the current one.
func (p *Publisher) prune() error {
	keep := p.Keep
	if keep <= 0 {
		keep = 3
	}
	ids, err := p.List()
	if err != nil {
		return err
	}
	cur, _ := p.Current()
	for len(ids) > keep {
		if ids[0] != cur {
			if err := os.RemoveAll(filepath.Join(p.Out, composesDir, ids[0])); err != nil {
				return err
			}
		}
		ids = ids[1:]
	}
	return nil
}

// syncTree flushes every file of a finished compose to disk before it is
// named, so that a crash cannot leave a named compose with empty files.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&os.ModeSymlink != 0 {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
