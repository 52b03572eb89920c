package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
)

// An SRPM is <nvr>.src.rpm, or <nvr>.nosrc.rpm for a package whose spec
// marks sources NoSource: or NoPatch: (upstream does not ship them).
var (
	hrefSRPM   = regexp.MustCompile(`href="([^"?#]+\.(?:no)?src\.rpm)"`)
	srpmSuffix = regexp.MustCompile(`\.(?:no)?src\.rpm$`)
)

// importSRPM imports the newest SRPM of a package from the configured
// folder or URL (an HTTP index page), or the file named by req.Ref.
func (im *Importer) importSRPM(ctx context.Context, old *lock.Package, req Request) (*lock.Package, bool, error) {
	base := im.Config.Resolve(im.Config.Upstream.SRPMs)
	file := req.Ref
	if file == "" && !req.Unpin && old != nil && old.Upstream.Pinned {
		file = filepath.Base(old.Upstream.URL)
	}
	if file == "" {
		names, err := im.listSRPMs(ctx, base)
		if err != nil {
			return nil, false, err
		}
		file = newestSRPM(req.Name, names)
		if file == "" {
			return nil, false, fmt.Errorf("no %s-<version>-<release>.src.rpm (or .nosrc.rpm) in %s", req.Name, base)
		}
	}
	url := strings.TrimSuffix(base, "/") + "/" + file
	data, err := im.Fetcher.Fetch(ctx, url)
	if err != nil {
		return nil, false, err
	}
	// Checked on every import, not only the first: upstream.keys may
	// have been set since this SRPM was pinned.
	if err := im.checkSignature(file, data); err != nil {
		return nil, false, err
	}
	digest := store.Digest(data)
	ps, err := im.resolvePatches(ctx, req.Name)
	if err != nil {
		return nil, false, err
	}
	up := lock.Upstream{Kind: "srpm", URL: url, SHA256: digest, Pinned: req.Ref != "" || (old != nil && old.Upstream.Pinned && !req.Unpin)}
	if old != nil && old.Upstream.SHA256 == digest && samePatches(old.Patches, ps) &&
		im.Store.HasTree(old.Tree) && im.Store.HasTree(old.UpstreamTree) {
		e := *old
		e.Upstream = up
		return &e, e.Upstream != old.Upstream, nil
	}
	s, err := ReadSRPM(file, data)
	if err != nil {
		return nil, false, err
	}
	if s.Name != req.Name {
		return nil, false, fmt.Errorf("SRPM %s is package %s, not %s", file, s.Name, req.Name)
	}
	return im.finish(ctx, req.Name, up, s.Tree, ps)
}

func (im *Importer) listSRPMs(ctx context.Context, base string) ([]string, error) {
	if p, ok := localPath(base); ok {
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("SRPM folder: %w", err)
		}
		var out []string
		for _, e := range entries {
			if srpmSuffix.MatchString(e.Name()) {
				out = append(out, e.Name())
			}
		}
		return out, nil
	}
	page, err := im.Fetcher.Fetch(ctx, strings.TrimSuffix(base, "/")+"/")
	if err != nil {
		return nil, fmt.Errorf("SRPM index: %w", err)
	}
	var out []string
	for _, m := range hrefSRPM.FindAllStringSubmatch(string(page), -1) {
		out = append(out, filepath.Base(m[1]))
	}
	return out, nil
}

// newestSRPM picks name's newest file by RPM version order, .src.rpm and
// .nosrc.rpm alike.
func newestSRPM(name string, files []string) string {
	var nvrs []string
	file := map[string]string{}
	for _, f := range files {
		if loc := srpmSuffix.FindStringIndex(f); loc != nil {
			nvr := f[:loc[0]]
			nvrs = append(nvrs, nvr)
			if _, dup := file[nvr]; !dup || strings.HasSuffix(f, ".src.rpm") {
				file[nvr] = f // both of one NVR: the one that carries every source
			}
		}
	}
	return file[newestNVR(name, nvrs)]
}

// checkSignature checks an SRPM against upstream.keys, when they are set:
// a signature by one of them must verify, over the header and (directly
// or through the header's payload digest) the payload.
func (im *Importer) checkSignature(file string, data []byte) error {
	keys := im.Config.Upstream.Keys
	if len(keys) == 0 {
		return nil
	}
	var ring openpgp.EntityList
	for _, k := range keys {
		path := im.Config.Resolve(k)
		armored, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("upstream.keys: %w", err)
		}
		ks, err := sign.Keyring(armored)
		if err != nil {
			return fmt.Errorf("upstream.keys: %s: not an armored public key: %v", path, err)
		}
		ring = append(ring, ks...)
	}
	if _, err := rpmfile.VerifySignatures(ring, "SRPM "+file, data); err != nil {
		return fmt.Errorf("%w (upstream.keys names the keys upstream signs with)", err)
	}
	return nil
}
