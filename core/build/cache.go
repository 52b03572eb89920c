package build

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/quarrylinux/quarry/core/store"
)

// Cache keeps job records by key under <state>/build/records; a record is
// written (aside, then renamed) only after its outputs are in the store, so
// a record present means a finished job.
type Cache struct {
	Dir   string
	Store *store.Store
}

func (c *Cache) path(key string) string { return filepath.Join(c.Dir, "records", key[:2], key+".json") }

func (c *Cache) latestPath(id string) string {
	return filepath.Join(c.Dir, "latest", strings.ReplaceAll(id, "/", "@")+".json")
}

// Get returns the record of key when it and all its outputs are there.
func (c *Cache) Get(key string) (*Record, bool) {
	rec, err := c.read(c.path(key))
	if err != nil || rec.Key != key {
		return nil, false
	}
	for _, o := range rec.Outputs {
		if !c.Store.Has(o.SHA256) {
			return nil, false
		}
	}
	return rec, true
}

// Latest returns the last record of a job ID (package/arch), whatever its key.
func (c *Cache) Latest(id string) (*Record, bool) {
	rec, err := c.read(c.latestPath(id))
	return rec, err == nil
}

func (c *Cache) read(path string) (*Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rec, nil
}

// Put stores a record under its key and as its job's latest.
func (c *Cache) Put(rec *Record) error {
	if rec.Key == "" {
		return errors.New("record without a key")
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	for _, p := range []string{c.path(rec.Key), c.latestPath(rec.Job.ID)} {
		if err := store.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
