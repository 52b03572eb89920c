// Package optin turns a machine's SIG repositories on and off: it reads
// the SIG index a publication carries (sigs.json) and writes or removes
// /etc/yum.repos.d/<distro>-sig-<sig>.repo and the SIG's public key, the
// same files the SIG's <distro>-release-<sig> package carries.
package optin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/store"
)

// IndexFile is the SIG index's name at a compose's root.
const IndexFile = "sigs.json"

// Index lists the SIGs a publication carries.
type Index struct {
	Distribution string `json:"distribution"`
	PrettyName   string `json:"pretty_name"`
	SIGs         []SIG  `json:"sigs"`
}

// SIG is one published SIG.
type SIG struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description"`
	Repos       []Repo `json:"repos"`
	Key         string `json:"key"` // its file under keys/
}

// Repo is one repository of a SIG.
type Repo struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Arches      []string `json:"arches,omitempty"`
}

// Write writes the index into a compose folder.
func (x *Index) Write(dir string) error {
	sort.Slice(x.SIGs, func(i, j int) bool { return x.SIGs[i].Name < x.SIGs[j].Name })
	data, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFile(filepath.Join(dir, IndexFile), append(data, '\n'), 0o644)
}

// Find returns a SIG by name.
func (x *Index) Find(name string) (*SIG, error) {
	var names []string
	for i := range x.SIGs {
		if x.SIGs[i].Name == name {
			return &x.SIGs[i], nil
		}
		names = append(names, x.SIGs[i].Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no SIG %q: the publication carries no SIGs", name)
	}
	return nil, fmt.Errorf("no SIG %q: the publication carries %s", name, strings.Join(names, ", "))
}

// Fetch reads a file of a publication: a folder, or a file:// or
// http(s):// URL.
func Fetch(from, rel string) ([]byte, error) {
	switch {
	case strings.HasPrefix(from, "http://") || strings.HasPrefix(from, "https://"):
		url := strings.TrimRight(from, "/") + "/" + rel
		resp, err := http.Get(url)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s", url, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	case strings.HasPrefix(from, "file://"):
		from = strings.TrimPrefix(from, "file://")
	}
	return os.ReadFile(filepath.Join(from, filepath.FromSlash(rel)))
}

// Load reads a publication's SIG index.
func Load(from string) (*Index, error) {
	data, err := Fetch(from, IndexFile)
	if err != nil {
		return nil, fmt.Errorf("the SIG index of %s: %w", from, err)
	}
	var x Index
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("the SIG index of %s: %w", from, err)
	}
	return &x, nil
}

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
		if line == "enabled=1" && section != x.Distribution+"-sig-"+s.Name+"-"+only {
			line = "enabled=0"
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n"))
}

// Paths are where a SIG's files go under root.
func Paths(root, distro, sig, key string) (repoFile, keyFile string) {
	return filepath.Join(root, "etc", "yum.repos.d", distro+"-sig-"+sig+".repo"),
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
