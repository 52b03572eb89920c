// Package optin turns a machine's SIG repositories on and off: it reads
// the SIG index a publication carries (sigs.json, checked against its
// signature by a key the user trusts) and writes or removes
// /etc/yum.repos.d/<distro>-sig-<sig>.repo and the SIG's public key, the
// same files the SIG's <distro>-release-<sig> package carries.
package optin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	var out []string
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
		}
		if line == "enabled=1" && section != layout.Names(x.Distribution).SIGRepoID(s.Name, only) {
			line = "enabled=0"
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n"))
}

// Paths are where a SIG's files go under root.
func Paths(root, distro, sig, key string) (repoFile, keyFile string) {
	return filepath.Join(root, "etc", "yum.repos.d", layout.Names(distro).SIGRepoFile(sig)),
		filepath.Join(root, "etc", "pki", "rpm-gpg", key)
}

// Enabled reports whether a SIG's .repo file is on the machine.
func Enabled(root, distro, sig string) bool {
	repo, _ := Paths(root, distro, sig, "")
	_, err := os.Stat(repo)
	return err == nil
}

// Enable writes the SIG's key and .repo file under root; on any error
// neither is left behind.
func Enable(root string, x *Index, name, only, from string) (repoFile string, err error) {
	s, err := x.Find(name)
	if err != nil {
		return "", err
	}
	if only != "" {
		found := false
		var ids []string
		for _, r := range s.Repos {
			found = found || r.ID == only
			ids = append(ids, r.ID)
		}
		if !found {
			return "", fmt.Errorf("SIG %s has no repository %q (it has %s)", name, only, strings.Join(ids, ", "))
		}
	}
	key, err := Fetch(from, "keys/"+s.Key)
	if err != nil {
		return "", fmt.Errorf("SIG %s's key: %w", name, err)
	}
	// The index is signed; the key it hands out is covered by its digest.
	if s.KeySHA256 == "" || store.Digest(key) != s.KeySHA256 {
		return "", fmt.Errorf("%s: sha256 differs from the signed %s (SIG %s's key); nothing written", Join(from, "keys/"+s.Key), IndexFile, name)
	}
	repoPath, keyPath := Paths(root, x.Distribution, name, s.Key)
	for _, d := range []string{filepath.Dir(repoPath), filepath.Dir(keyPath)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("--root %s: %w", root, err)
		}
	}
	if err := store.WriteFile(keyPath, key, 0o644); err != nil {
		return "", fmt.Errorf("--root %s: %w", root, err)
	}
	if err := store.WriteFile(repoPath, x.RepoFile(s, BaseURL(from), only), 0o644); err != nil {
		os.Remove(keyPath)
		return "", fmt.Errorf("--root %s: %w", root, err)
	}
	return repoPath, nil
}

// Disable removes the SIG's .repo file and key from under root.
func Disable(root string, distro, name, key string) error {
	for _, n := range []string{distro, name, key} {
		if !nameRE.MatchString(n) {
			return fmt.Errorf("%q: not a plain name", n)
		}
	}
	repoPath, keyPath := Paths(root, distro, name, key)
	if _, err := os.Stat(repoPath); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("SIG %s is not enabled under %s", name, root)
	}
	if err := os.Remove(repoPath); err != nil {
		return err
	}
	if err := os.Remove(keyPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
