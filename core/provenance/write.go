package provenance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/ProtonMail/go-crypto/openpgp"
	"golang.org/x/sync/errgroup"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
)

// Dir is where a compose keeps its provenance: Dir/<package>.<arch>.intoto.json,
// one flat folder (publishing syncs every new folder, so fewer is faster).
const Dir = "provenance"

// Writer signs one statement per build job into a compose.
type Writer struct {
	Key          *sign.Key
	Store        *store.Store
	Distribution string
	Version      string
	Builder      Builder
}

// Write makes, signs and writes the provenance of every job that made one
// of the artifacts into root, and sets each artifact's Provenance to its
// path. An envelope already signed for the same statement is taken from
// the store: a compose re-signs only what changed.
func (w *Writer) Write(ctx context.Context, root string, arts []*compose.Published, records map[string]*build.Record, lk *lock.Lock) error {
	byJob := map[string][]*compose.Published{}
	for _, a := range arts {
		byJob[a.Job] = append(byJob[a.Job], a)
	}
	jobs := make([]string, 0, len(byJob))
	for j := range byJob {
		jobs = append(jobs, j)
	}
	sort.Strings(jobs)
	alias := "provenance-" + w.Key.Fingerprint()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, id := range jobs {
		rec := records[id]
		if rec == nil {
			return fmt.Errorf("provenance of %s: no build record", id)
		}
		rel := path.Join(Dir, rec.Job.Package+"."+rec.Job.Arch+".intoto.json")
		var subjects []compose.Published
		for _, a := range byJob[id] {
			a.Provenance = rel
			subjects = append(subjects, *a)
		}
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			in := Input{Distribution: w.Distribution, Version: w.Version, Builder: w.Builder, Record: rec, Source: lk.Packages[rec.Job.Package]}
			for _, s := range subjects {
				in.Subjects = append(in.Subjects, Resource{Name: s.File, Digest: map[string]string{"sha256": s.Signed}})
			}
			st := Make(in)
			payload, err := st.marshal()
			if err != nil {
				return err
			}
			sum := sha256.Sum256(payload)
			key := hex.EncodeToString(sum[:])
			d, ok := w.Store.Alias(alias, key)
			if !ok {
				env, err := Sign(w.Key, st, rec.End)
				if err != nil {
					return fmt.Errorf("provenance of %s: %w", id, err)
				}
				if d, err = w.Store.Put(env); err != nil {
					return err
				}
				if err := w.Store.PutAlias(alias, key, d); err != nil {
					return err
				}
			}
			// Linked from the store, like the RPMs: a compose writes (and
			// syncs) only what is new.
			dst := filepath.Join(root, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			return store.Link(w.Store.Path(d), dst)
		})
	}
	return g.Wait()
}

// Check verifies the provenance of every artifact of a compose: each
// envelope's signature against the keyring, and that its statement names
// the artifact's file with its published digest. root is the compose in
// fsys, shown how messages name it; a provenance path that is not a clean
// path inside the compose is refused, not opened. It returns how many
// envelopes verified, and one line per problem.
func Check(keyring openpgp.KeyRing, fsys fs.FS, shown string, arts []*compose.Published) (int, []string) {
	var problems []string
	opened := map[string]*Statement{}
	failed := map[string]bool{}
	for _, a := range arts {
		if a.Provenance == "" {
			problems = append(problems, fmt.Sprintf("%s: no provenance in the manifest", a.File))
			continue
		}
		if !fs.ValidPath(a.Provenance) || a.Provenance == "." {
			problems = append(problems, fmt.Sprintf("%s: its provenance in the manifest, %q, is not a path inside the compose; not opened", a.File, a.Provenance))
			continue
		}
		file := filepath.Join(shown, filepath.FromSlash(a.Provenance))
		if failed[file] {
			continue
		}
		st := opened[file]
		if st == nil {
			data, err := fs.ReadFile(fsys, a.Provenance)
			if err == nil {
				st, err = Open(keyring, data)
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", file, err))
				failed[file] = true
				continue
			}
			opened[file] = st
		}
		if !st.Has(a.File, a.Signed) {
			problems = append(problems, fmt.Sprintf("%s: not a subject of %s with sha256 %s", a.File, file, a.Signed))
		}
	}
	return len(opened), problems
}
