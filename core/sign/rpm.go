package sign

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/quarrylinux/quarry/core/rpmfile"
)

// Signature header tags.
const (
	sigTagDSA           = 267 // header-only signature, DSA and EC keys
	sigTagRSA           = 268 // header-only signature, RSA keys
	sigTagReservedSpace = 1008
)

// UnsignedError is an RPM that carries no signature.
var UnsignedError = rpmfile.ErrUnsigned

// RPM signs a package's header, the way rpmsign --addsign does for rpm 4.16
// and later (a v4 signature over the immutable header, which carries the
// payload digest, so the whole package is covered). The signature is dated
// by the package's build time, so signing the same package with the same
// key gives the same bytes. name is for messages.
func (k *Key) RPM(name string, data []byte) ([]byte, error) {
	f, err := rpmfile.Read(name, data)
	if err != nil {
		return nil, err
	}
	lead, sig, rest, err := rpmfile.Parts(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	start, end := f.HeaderRange()
	at := time.Unix(f.BuildTime().Unix(), 0)
	s, err := k.Detached(data[start:end], at)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", name, err)
	}
	sig.Delete(sigTagDSA)
	sig.Delete(sigTagReservedSpace) // only there to let rpmsign write in place
	sig.Set(rpmfile.Bin(sigTagRSA, s))
	return rpmfile.Assemble(lead, sig, rest), nil
}

// VerifyRPM checks what rpmkeys --checksig checks: the structure, every
// digest, and every signature of the package against keyring
// (rpmfile.VerifySignatures).
func VerifyRPM(keyring openpgp.KeyRing, name string, data []byte) error {
	_, err := rpmfile.VerifySignatures(keyring, name, data)
	return err
}

// RPMKeysCheck runs the real rpmkeys --checksig on files, trusting only
// publicKey (in a throwaway rpm database), and returns one line per file
// that does not verify.
func RPMKeysCheck(publicKey []byte, files []string) ([]string, error) {
	if len(files) == 0 {
		return nil, nil
	}
	db, err := os.MkdirTemp("", "quarry-rpmkeys-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(db)
	keyFile := filepath.Join(db, "key.asc")
	if err := os.WriteFile(keyFile, publicKey, 0o644); err != nil {
		return nil, err
	}
	base := []string{"--dbpath", db, "--define", "_pkgverify_level all"}
	if out, err := exec.Command("rpmkeys", append(base, "--import", keyFile)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("rpmkeys --import: %v: %s", err, out)
	}
	out, _ := exec.Command("rpmkeys", append(append(base, "--checksig"), files...)...).CombinedOutput()
	var bad []string
	ok := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		file, status, found := strings.Cut(line, ": ")
		if !found {
			continue
		}
		if strings.HasSuffix(strings.TrimSpace(status), "OK") && strings.Contains(status, "signatures") {
			ok[file] = true
		} else {
			bad = append(bad, line)
		}
	}
	for _, f := range files {
		if !ok[f] && !containsPrefix(bad, f+":") {
			bad = append(bad, f+": not checked by rpmkeys")
		}
	}
	return bad, nil
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
