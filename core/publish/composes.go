package publish

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/quarrylinux/quarry/core/layout"
	"github.com/quarrylinux/quarry/core/treefs"
)

// Compose describes one finished compose of the published tree, as its
// manifest says (read as data: quarry verify is what checks it).
type Compose struct {
	ID string `json:"id"`
	// Current is the one published; Rollback the one quarry publish
	// --rollback would make current.
	Current  bool      `json:"current,omitempty"`
	Rollback bool      `json:"rollback,omitempty"`
	Made     time.Time `json:"made"`
	Packages int       `json:"packages"` // binary RPMs
	Sources  int       `json:"sources"`  // SRPMs
	Repos    int       `json:"repos"`
	Images   int       `json:"images"`
	SIGs     []string  `json:"sigs,omitempty"`
	// Problem says why the manifest could not be read.
	Problem string `json:"problem,omitempty"`
}

// Composes lists the finished composes, newest first.
func (p *Publisher) Composes() ([]Compose, error) {
	ids, err := p.List()
	if err != nil {
		return nil, err
	}
	cur, err := p.Current()
	if err != nil {
		return nil, err
	}
	ci := slices.Index(ids, cur)
	var out []Compose
	for i := len(ids) - 1; i >= 0; i-- {
		c := Compose{ID: ids[i], Current: i == ci, Rollback: ci > 0 && i == ci-1}
		// The id is the commit's UTC time (and a .N when two share a second).
		if t, err := time.Parse("20060102.150405", ids[i][:min(len(ids[i]), 15)]); err == nil {
			c.Made = t
		}
		if err := c.read(filepath.Join(p.Out, composesDir, ids[i])); err != nil {
			c.Problem = err.Error()
		}
		out = append(out, c)
	}
	return out, nil
}

// read fills in what the compose holds from its manifest.
func (c *Compose) read(dir string) error {
	t, err := treefs.Open(dir)
	if err != nil {
		return err
	}
	defer t.Close()
	data, err := t.ReadFile(ManifestFile)
	if err != nil {
		return fmt.Errorf("%s: %w", t.Path(ManifestFile), err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%s: %w", t.Path(ManifestFile), err)
	}
	sigs := map[string]bool{}
	for _, a := range m.Artifacts {
		if a.Arch == "src" {
			c.Sources++
		} else {
			c.Packages++
		}
		if a.SIG != "" && a.SIG != layout.ReleaseOwner {
			sigs[a.SIG] = true
		}
	}
	for _, img := range m.Images {
		sigs[img.SIG] = true
	}
	c.Repos, c.Images, c.SIGs = len(m.Repositories), len(m.Images), slices.Sorted(maps.Keys(sigs))
	return nil
}
