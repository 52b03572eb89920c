package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/publish"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a published compose offline against a key you trust",
		ArgsUsage: "DIR [--key FILE]... [--fingerprint FPR]... [--root DIR]",
		Description: `Checks what a user can check without a network, against keys the user
already trusts: the public keys in --key FILEs, the keys whose fingerprint
is pinned with --fingerprint (their key material may come from DIR/keys),
or, with neither, the machine's rpm keyring (rpm -q gpg-pubkey; --root for
another root). The keys DIR carries are never trusted on their own.

manifest.json must be signed (manifest.json.asc) by a trusted key, and
lists every file of the compose with its sha256: every RPM, whose header
signature must be by the same core key (in sig/<sig>/, by the SIG's key,
which sigs.json, also signed by the core key, names by digest); every
repository's repodata (repomd.xml signed, the files it names with their
checksums and sizes); each artifact's signed provenance; images; keys;
sigs.json. A file the manifest does not list is "not covered by any
signature". A symlink, FIFO or other non-regular file is reported and
never followed; a path from the manifest, provenance or repomd.xml that
leaves DIR is refused and never opened. DIR itself may be a symlink
(out/current), resolved once.

Prints one line per problem, then which key signed what, and exits 1 if
there is any problem (2 if there is no trusted key). The core's public key
is <state>/keys/RPM-GPG-KEY-<distro>, written by quarry key init:

    quarry verify out/current --key .quarry/keys/RPM-GPG-KEY-pebble`,
		Flags: trustFlags("check against the rpm keyring of the root `DIR` (without --key or --fingerprint)"),
		Action: func(c *cli.Context) error {
			args, one, many, err := trailing(c, []string{"root"}, []string{"key", "fingerprint"})
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return cli.Exit("quarry: verify needs the compose folder, e.g. out/current", 2)
			}
			dir := args[0]
			trust, err := userTrust(many["key"], many["fingerprint"], one["root"])
			if err != nil {
				return err
			}
			r, err := publish.Verify(dir, trust)
			if err != nil {
				return noTrust("verify "+dir, err, many["key"], many["fingerprint"], one["root"])
			}
			if c.Bool("json") {
				json.NewEncoder(os.Stdout).Encode(struct {
					Dir string `json:"dir"`
					*publish.Report
				}{dir, r})
			} else {
				for _, p := range r.Problems {
					fmt.Println(p)
				}
				for _, s := range r.Signers {
					fmt.Println(signerLine(s))
				}
			}
			if len(r.Problems) > 0 {
				return cli.Exit(fmt.Sprintf("quarry: %s: %d problems", dir, len(r.Problems)), 1)
			}
			if !c.Bool("json") {
				fmt.Printf("%s: everything verifies: %d files, each covered by a signature of a trusted key\n", dir, r.Files)
			}
			return nil
		},
	}
}

// signerLine says which key signed what.
func signerLine(s *publish.Signer) string {
	var counts []string
	for _, k := range []string{publish.KindManifest, publish.KindIndex, publish.KindRepomd, publish.KindRPM, publish.KindProvenance, publish.KindDigest} {
		if n := s.Signed[k]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(counts) == 0 {
		counts = []string{"nothing"}
	}
	who := "core key"
	if s.SIG != "" {
		who = "SIG " + s.SIG + " key"
	}
	return fmt.Sprintf("%s %s %q (trusted: %s) signed %s", who, s.Fingerprint, s.UserID, s.Trust, strings.Join(counts, ", "))
}
