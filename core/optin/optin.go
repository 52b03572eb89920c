// Package optin turns a machine's SIG repositories on and off: it reads
// the SIG index a publication carries (sigs.json, checked against its
// signature by a key the user trusts) and writes or removes
// /etc/yum.repos.d/<distro>-sig-<sig>.repo and the SIG's public key, the
// same files the SIG's <distro>-release-<sig> package carries.
package optin

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/quarrylinux/quarry/core/layout"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/store"
)

// BaseURL is what a .repo file's baseurls start with for a publication:
// a folder becomes a file:// URL.
func BaseURL(from string) string {
	if strings.Contains(from, "://") {
		return strings.TrimRight(from, "/")
	}
	abs, err := filepath.Abs(from)
	if err != nil {
		abs = from
	}
	return "file://" + abs
}

// RepoFile is the SIG's .repo file for a publication at url; with only
// set, only that repository is enabled.
func (x *Index) RepoFile(s *SIG, url, only string) []byte {
	var repos []compose.SIGRepo
	for _, r := range s.Repos {
		repos = append(repos, compose.SIGRepo{ID: r.ID, Name: r.Name})
	}
	data := compose.SIGRepoFile(x.Distribution, x.PrettyName, s.Name, url, s.Key, repos)
	if only == "" {
		return data
	}
	// Every section but the chosen one is turned off.
	others := map[string]bool{}
	for _, r := range s.Repos {
		if r.ID != only {
			others[layout.Names(x.Distribution).SIGRepoID(s.Name, r.ID)] = true
		}
	}
	data, _ = setEnabled(data, others, false)
	return data
}

// Paths are where a SIG's files go under root.
func Paths(root, distro, sig, key string) (repoFile, keyFile string) {
	return filepath.Join(root, "etc", "yum.repos.d", layout.Names(distro).SIGRepoFile(sig)),
		filepath.Join(root, "etc", "pki", "rpm-gpg", key)
}

// Enabled reports whether any repository of the SIG's .repo file under
// root is on.
func Enabled(root, distro, sig string) bool {
	repos, _ := States(root, distro, sig)
	return slices.ContainsFunc(repos, func(r RepoState) bool { return r.Enabled })
}

// Result is what Enable or Disable did.
type Result struct {
	RepoFile string
	// Owner is the installed package that owns the .repo file (the SIG's
	// <distro>-release-<sig>): its repositories were switched in place,
	// as dnf config-manager does, and every file it owns stays. The file
	// is %config(noreplace), so an update keeps the switch.
	Owner string
}

// Enable writes the SIG's key and .repo file under root (every
// repository on, or only's); on any error neither is left behind. When an
// installed package owns the .repo file, its repositories are switched on
// in place instead (only's alone, with only).
func Enable(root string, x *Index, name, only, from string, owner Owner) (*Result, error) {
	s, err := x.Find(name)
	if err != nil {
		return nil, err
	}
	if only != "" {
		found := false
		var ids []string
		for _, r := range s.Repos {
			found = found || r.ID == only
			ids = append(ids, r.ID)
		}
		if !found {
			return nil, fmt.Errorf("SIG %s has no repository %q (it has %s)", name, only, strings.Join(ids, ", "))
		}
	}
	repoPath, keyPath := Paths(root, x.Distribution, name, s.Key)
	if pkg, err := owner(root, inRoot(root, repoPath)); err != nil || pkg != "" {
		if err != nil {
			return nil, err
		}
		var ids map[string]bool
		if only != "" {
			ids = map[string]bool{layout.Names(x.Distribution).SIGRepoID(s.Name, only): true}
		}
		return &Result{RepoFile: repoPath, Owner: pkg}, switchInPlace(repoPath, ids, true)
	}
	key, err := Fetch(from, "keys/"+s.Key)
	if err != nil {
		return nil, fmt.Errorf("SIG %s's key: %w", name, err)
	}
	// The index is signed; the key it hands out is covered by its digest.
	if s.KeySHA256 == "" || store.Digest(key) != s.KeySHA256 {
		return nil, fmt.Errorf("%s: sha256 differs from the signed %s (SIG %s's key); nothing written", Join(from, "keys/"+s.Key), IndexFile, name)
	}
	for _, d := range []string{filepath.Dir(repoPath), filepath.Dir(keyPath)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("--root %s: %w", root, err)
		}
	}
	if err := store.WriteFile(keyPath, key, 0o644); err != nil {
		return nil, fmt.Errorf("--root %s: %w", root, err)
	}
	if err := store.WriteFile(repoPath, x.RepoFile(s, BaseURL(from), only), 0o644); err != nil {
		os.Remove(keyPath)
		return nil, fmt.Errorf("--root %s: %w", root, err)
	}
	return &Result{RepoFile: repoPath}, nil
}

// Disable turns the SIG off under root. Files sig enable wrote are
// removed; a .repo file an installed package owns has its repositories
// switched off in place, and no file a package owns is removed (rpm -V
// would report it missing, and the package's next update would put it
// back, turned on).
func Disable(root string, distro, name, key string, owner Owner) (*Result, error) {
	for _, n := range []string{distro, name, key} {
		if !nameRE.MatchString(n) {
			return nil, fmt.Errorf("%q: not a plain name", n)
		}
	}
	repoPath, keyPath := Paths(root, distro, name, key)
	if _, err := os.Stat(repoPath); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("SIG %s is not enabled under %s", name, cleanRoot(root))
	}
	// Both owners are known before anything is removed.
	pkg, err := owner(root, inRoot(root, repoPath))
	if err != nil {
		return nil, err
	}
	keyOwner, err := owner(root, inRoot(root, keyPath))
	if err != nil {
		return nil, err
	}
	if pkg != "" {
		return &Result{RepoFile: repoPath, Owner: pkg}, switchInPlace(repoPath, nil, false)
	}
	if err := os.Remove(repoPath); err != nil {
		return nil, err
	}
	if keyOwner == "" {
		if err := os.Remove(keyPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return &Result{RepoFile: repoPath}, nil
}

// switchInPlace rewrites a .repo file's enabled= lines, keeping its mode;
// a file with none of the sections asked for is an error, not a silent
// success.
func switchInPlace(path string, ids map[string]bool, enable bool) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, n := setEnabled(data, ids, enable)
	if n == 0 {
		want := "a repository section"
		if ids != nil {
			want = "the section " + strings.Join(slices.Sorted(maps.Keys(ids)), ", ")
		}
		return fmt.Errorf("%s has no %s; nothing changed", path, want)
	}
	return store.WriteFile(path, out, st.Mode().Perm())
}
