// Package plugins is the host side of SIG plugins: finding each SIG's
// binary, checking it against sigs.lock before every launch, running it
// sandboxed over go-plugin with mutual TLS, negotiating the protocol
// major, bounding its time and its output, and turning every way a plugin
// can misbehave into an error that names the SIG. What a plugin returns
// becomes plan packages in plugins/intake.
package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/quarrylinux/quarry/core/store"
)

// LockFile is the lock's name beside quarry.yaml.
const LockFile = "sigs.lock"

// Lock pins each SIG's plugin binary by sha256.
type Lock struct {
	Version int                `json:"version"`
	Plugins map[string]*Pinned `json:"plugins"`
}

// Pinned is one SIG's binary.
type Pinned struct {
	Binary string `json:"binary"` // its file name: quarry-sig-<name>
	SHA256 string `json:"sha256"`
}

// LoadLock reads a lock file; a missing file is an empty lock.
func LoadLock(path string) (*Lock, error) {
	l := &Lock{Version: 1, Plugins: map[string]*Pinned{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, l); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if l.Plugins == nil {
		l.Plugins = map[string]*Pinned{}
	}
	return l, nil
}

// Save writes the lock atomically, sorted, only when it changed.
func (l *Lock) Save(path string) error {
	data, err := json.MarshalIndent(l, "", "  ") // encoding/json sorts map keys
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	return store.WriteFile(path, data, 0o644)
}

// BinaryName is a SIG's plugin file name.
func BinaryName(sig string) string { return "quarry-sig-" + sig }

// Find looks for a SIG's binary in dirs, in order.
func Find(sig string, dirs []string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, BinaryName(sig))
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("sig %s: no %s in %v (make plugins builds the shipped ones into bin/)", sig, BinaryName(sig), dirs)
}

// FileSHA256 hashes a file, the way verified reads a binary.
func FileSHA256(path string) (string, error) {
	data, err := readBinary(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
