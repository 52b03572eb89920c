package plugins

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/quarrylinux/quarry/core/store"
)

// DevOverrides are the local binaries run instead of SIGs' locked ones
// (quarry plugin dev), by SIG: a SIG lead's loop of rebuild and run with
// no re-lock. They live in the state, not beside quarry.yaml, so they are
// never committed with the distribution's config.
type DevOverrides map[string]string

// LoadDev reads the overrides at path; none is an empty set.
func LoadDev(path string) (DevOverrides, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return DevOverrides{}, nil
	}
	if err != nil {
		return nil, err
	}
	var d struct {
		Version int          `json:"version"`
		Plugins DevOverrides `json:"plugins"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: not a dev override file: %w", path, err)
	}
	if d.Version != 1 {
		return nil, fmt.Errorf("%s: dev override file version %d, want 1", path, d.Version)
	}
	if d.Plugins == nil {
		d.Plugins = DevOverrides{}
	}
	return d.Plugins, nil
}

// Save writes the overrides at path, atomically; none removes the file.
func (d DevOverrides) Save(path string) error {
	if len(d) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	data, err := json.MarshalIndent(map[string]any{"version": 1, "plugins": d}, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFile(path, append(data, '\n'), 0o644)
}
