package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/sign"
)

func keyCommand() *cli.Command {
	return &cli.Command{
		Name:  "key",
		Usage: "manage the core's signing key",
		Subcommands: []*cli.Command{{
			Name:  "init",
			Usage: "generate the core signing key (<state>/keys/core.key) unless it exists",
			Description: `Generates an RSA OpenPGP key for the distribution ("<pretty_name> <packager
email>") and writes the private key to <state>/keys/core.key (mode 0600) and
the public key next to it as RPM-GPG-KEY-<distro>. An existing key is kept
unless --force. To sign with a key you already have, set signing.key (a
private key file) or signing.gpg_key (a key in your gpg keyring) instead.`,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "force", Usage: "replace an existing key"},
				&cli.IntFlag{Name: "bits", Value: 4096, Usage: "RSA key size"},
				&cli.StringFlag{Name: "sig", Usage: "make the key of SIG `NAME` (<state>/keys/sig-NAME.key), which signs its packages; the SIG never sees it"},
			},
			Action: func(c *cli.Context) error {
				e, err := setup(c)
				if err != nil {
					return err
				}
				path, uid, pubName := e.lay.CoreKeyFile(), fmt.Sprintf("%s <%s>", e.cfg.Distribution.PrettyName, packagerEmail(e.cfg.Distribution.Packager)), e.lay.KeyName()
				if sig := c.String("sig"); sig != "" {
					path, pubName = e.lay.SIGKeyFile(sig), e.lay.SIGKeyName(sig)
					uid = fmt.Sprintf("%s SIG %s <%s>", e.cfg.Distribution.PrettyName, sig, packagerEmail(e.cfg.Distribution.Packager))
				}
				if sandbox.Visible(path) {
					return fmt.Errorf("%s: build jobs can read this folder (they see /usr and /etc); use a --state outside them", path)
				}
				if _, err := os.Stat(path); err == nil && !c.Bool("force") {
					k, err := sign.Load(path, "")
					if err != nil {
						return err
					}
					fmt.Printf("%s: key %s exists (--force replaces it)\n", path, k.Fingerprint())
					return nil
				}
				k, err := sign.Generate(uid, c.Int("bits"), time.Now())
				if err != nil {
					return err
				}
				if err := k.SavePrivate(path); err != nil {
					return err
				}
				pub, err := k.PublicArmored()
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(filepath.Dir(path), pubName), pub, 0o644); err != nil {
					return err
				}
				fmt.Printf("%s: new key %s (%s)\n", path, k.Fingerprint(), uid)
				return nil
			},
		}},
	}
}

// sigKey loads a SIG's signing key.
func (e *env) sigKey(sig string) (*sign.Key, error) {
	k, err := sign.Load(e.lay.SIGKeyFile(sig), "")
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sig %s has no signing key: run quarry key init --sig %s", sig, sig)
	}
	return k, err
}

// signingKey loads the key the config names, or the one key init made,
// once per command: planning (for the release package) and signing share
// it, and a gpg key is exported once.
func (e *env) signingKey() (*sign.Key, error) {
	if e.key != nil {
		return e.key, nil
	}
	k, err := e.loadSigningKey()
	e.key = k
	return k, err
}

func (e *env) loadSigningKey() (*sign.Key, error) {
	s := e.cfg.Signing
	pass := ""
	if s.PassphraseFile != "" {
		pass = e.cfg.Resolve(s.PassphraseFile)
	}
	// Build jobs see the host's /usr and /etc: no secret may live there.
	keyFile := ""
	switch {
	case s.Key != "":
		keyFile = e.cfg.Resolve(s.Key)
	case s.GPGKey == "":
		keyFile = e.lay.CoreKeyFile()
	}
	for _, f := range []string{pass, keyFile} {
		if f != "" && sandbox.Visible(f) {
			return nil, &sign.KeyError{Source: f, Err: errors.New("build jobs can read this folder (they see /usr and /etc); keep keys and passphrases elsewhere")}
		}
	}
	switch {
	case s.GPGKey != "":
		return sign.FromGPG(s.GPGKey, pass)
	case s.Key != "":
		return sign.Load(keyFile, pass)
	}
	k, err := sign.Load(keyFile, pass)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no signing key: run quarry key init, or set signing.key in %s", e.cfg.File)
	}
	return k, err
}

func packagerEmail(packager string) string {
	for i := len(packager) - 1; i >= 0; i-- {
		if packager[i] == '<' {
			if j := len(packager) - 1; packager[j] == '>' {
				return packager[i+1 : j]
			}
		}
	}
	return "releng@localhost"
}
