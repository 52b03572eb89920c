package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/quarrylinux/quarry/core/optin"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
)

// sigIndex writes sigs.json, signed with the core key: the SIGs this
// compose publishes, and those carried over from the previous one, each
// with its key's digest and fingerprint.
func (p *Pipeline) sigIndex(dir, prev string, b *Built, failed map[string]error, key *sign.Key, at time.Time) error {
	d := p.Config.Distribution
	x := &optin.Index{Distribution: d.Name, PrettyName: d.PrettyName, Key: p.Layout.KeyName(), SIGs: []optin.SIG{}}
	for _, s := range b.SIGs {
		if failed[s.Name] != nil {
			continue // its previous entry is carried below
		}
		entry := optin.SIG{Name: s.Name, Version: s.Info.Version, Description: s.Info.Description, Key: p.Layout.SIGKeyName(s.Name)}
		for _, r := range s.Repos {
			entry.Repos = append(entry.Repos, optin.Repo{ID: r.ID, Name: r.Name, Description: r.Description, Arches: r.Arches})
		}
		x.SIGs = append(x.SIGs, entry)
	}
	if prev != "" && len(failed) > 0 {
		// Carried entries are signed again: take them from a checked index.
		var trust sign.Trust
		trust.Add(key.Public(), "the core key")
		old, _, err := optin.Load(prev, &trust)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("the current publication: %w", err)
		}
		if old != nil {
			for _, s := range old.SIGs {
				if failed[s.Name] != nil {
					x.SIGs = append(x.SIGs, s)
				}
			}
		}
	}
	for i := range x.SIGs {
		if err := p.sigKeyEntry(dir, &x.SIGs[i], failed[x.SIGs[i].Name] == nil); err != nil {
			return err
		}
	}
	return x.Write(dir, key, at)
}

// sigKeyEntry gives a SIG's entry the digest and fingerprint of its key
// file in the compose. A SIG built this run with no packages still gets
// its key file (it is what machines opt in with); a SIG without a key has
// none, and cannot be enabled.
func (p *Pipeline) sigKeyEntry(dir string, s *optin.SIG, built bool) error {
	file := filepath.Join(dir, "keys", s.Key)
	pub, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) && built {
		k, kerr := p.Keys.SIG(s.Name)
		if kerr != nil {
			s.KeySHA256, s.KeyFingerprint = "", ""
			return nil
		}
		if pub, err = k.PublicArmored(); err == nil {
			err = os.MkdirAll(filepath.Dir(file), 0o755)
		}
		if err == nil {
			err = os.WriteFile(file, pub, 0o644)
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		s.KeySHA256, s.KeyFingerprint = "", ""
		return nil
	}
	if err != nil {
		return fmt.Errorf("sig %s's key: %w", s.Name, err)
	}
	keys, err := sign.Keyring(pub)
	if err != nil || len(keys) != 1 {
		return fmt.Errorf("sig %s's key %s: not one public key: %v", s.Name, file, err)
	}
	s.KeySHA256, s.KeyFingerprint = store.Digest(pub), sign.Fingerprint(keys[0])
	return nil
}
