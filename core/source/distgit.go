package source

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/quarrylinux/quarry/core/store"
)

// A lookaside reference found in a dist-git metadata file.
type sourceRef struct {
	File string // file name, placed under SOURCES/
	Hash Hash
}

var (
	// Stream `sources`: "SHA512 (file.tar.gz) = <hex>".
	streamLine = regexp.MustCompile(`^([A-Za-z0-9]+) \((.+)\) = ([0-9a-fA-F]+)$`)
	// CentOS `.<name>.metadata`: "<hex> SOURCES/file.tar.gz".
	centosLine = regexp.MustCompile(`^([0-9a-fA-F]+)\s+(\S+)$`)
)

// normalize turns a dist-git checkout of either layout into Quarry's tree
// layout (SPECS/<name>.spec, SOURCES/...) and lists its lookaside sources.
func normalize(name string, files store.Tree) (store.Tree, string, []sourceRef, error) {
	meta := "." + name + ".metadata"
	switch {
	case files["SPECS/"+name+".spec"] != nil || files[meta] != nil:
		refs, err := parseCentOSMetadata(files[meta], meta)
		if err != nil {
			return nil, "", nil, err
		}
		out := store.Tree{}
		for p, f := range files {
			switch {
			case p == meta || strings.HasPrefix(p, ".git"):
			case strings.HasPrefix(p, "SPECS/") || strings.HasPrefix(p, "SOURCES/"):
				out[p] = f
			default:
				// README and the like: not part of the package.
			}
		}
		return out, "centos", refs, nil
	case files[name+".spec"] != nil:
		refs, err := parseStreamSources(files["sources"])
		if err != nil {
			return nil, "", nil, err
		}
		out := store.Tree{}
		for p, f := range files {
			switch {
			case p == "sources" || strings.HasPrefix(p, ".git") || p == "gating.yaml" || p == "rpminspect.yaml" ||
				strings.HasPrefix(p, "tests/") || strings.HasPrefix(p, "plans/") || strings.HasSuffix(p, ".fmf") || strings.HasPrefix(p, ".fmf/"):
			case p == name+".spec":
				out["SPECS/"+p] = f
			case strings.Contains(p, "/"):
				return nil, "", nil, fmt.Errorf("%s: the Stream layout is flat; %s is in a folder", name, p)
			default:
				out["SOURCES/"+p] = f
			}
		}
		return out, "stream", refs, nil
	}
	return nil, "", nil, fmt.Errorf("%s: neither SPECS/%s.spec (CentOS layout) nor %s.spec (Stream layout) is in the repository", name, name, name)
}

func parseStreamSources(f *store.File) ([]sourceRef, error) {
	if f == nil {
		return nil, nil
	}
	var refs []sourceRef
	err := eachLine(f.Data, func(n int, line string) error {
		m := streamLine.FindStringSubmatch(line)
		if m == nil {
			return fmt.Errorf("sources:%d: expected \"SHA512 (file) = hash\", got %q", n, line)
		}
		h, err := newHash(m[1], m[3])
		if err != nil {
			return fmt.Errorf("sources:%d: %v", n, err)
		}
		file, err := store.CleanPath(m[2])
		if err != nil || strings.Contains(file, "/") {
			return fmt.Errorf("sources:%d: %q is not a plain file name", n, m[2])
		}
		refs = append(refs, sourceRef{File: file, Hash: h})
		return nil
	})
	return refs, err
}

func parseCentOSMetadata(f *store.File, name string) ([]sourceRef, error) {
	if f == nil {
		return nil, nil
	}
	var refs []sourceRef
	err := eachLine(f.Data, func(n int, line string) error {
		m := centosLine.FindStringSubmatch(line)
		if m == nil {
			return fmt.Errorf("%s:%d: expected \"<hash> SOURCES/<file>\", got %q", name, n, line)
		}
		typ := hashType(m[1])
		if typ == "" {
			return fmt.Errorf("%s:%d: a %d-digit hash is neither sha1, sha256 nor sha512", name, n, len(m[1]))
		}
		h, err := newHash(typ, m[1])
		if err != nil {
			return fmt.Errorf("%s:%d: %v", name, n, err)
		}
		p, err := store.CleanPath(m[2])
		if err != nil || !strings.HasPrefix(p, "SOURCES/") || strings.Contains(strings.TrimPrefix(p, "SOURCES/"), "/") {
			return fmt.Errorf("%s:%d: %q is not a file under SOURCES/", name, n, m[2])
		}
		refs = append(refs, sourceRef{File: path.Base(p), Hash: h})
		return nil
	})
	return refs, err
}

// eachLine calls fn with each non-blank line of data, trimmed, numbered
// from 1, and stops at its first error.
func eachLine(data []byte, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			if err := fn(n, line); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}
