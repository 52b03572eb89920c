package sign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/safetext"
	"github.com/quarrylinux/quarry/core/sandbox"
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
	_, err := RPMSigner(keyring, name, data)
	return err
}

// RPMSigner is VerifyRPM that also returns the key that signed. A package
// signed by a key not in keyring is an *UntrustedError naming that key.
func RPMSigner(keyring openpgp.KeyRing, name string, data []byte) (*openpgp.Entity, error) {
	vs, err := rpmfile.VerifySignatures(keyring, name, data)
	if err == nil {
		return vs[0].Signer, nil
	}
	if f, ferr := rpmfile.Read(name, data); ferr == nil {
		for _, sig := range f.Signatures() {
			if sig.KeyID != 0 && len(keyring.KeysById(sig.KeyID)) == 0 {
				return nil, fmt.Errorf("%s: header signature: %w", name, &UntrustedError{KeyID: sig.KeyID})
			}
		}
	}
	return nil, err
}

// RPMKeysCheck runs the real rpmkeys --checksig on files, trusting only
// publicKey (in a throwaway rpm database), and returns one line per file
// that does not verify. The headers are what build jobs wrote, so rpm
// parses them in a sandbox that sees the files read-only.
func RPMKeysCheck(publicKey []byte, files []string) ([]string, error) {
	if len(files) == 0 {
		return nil, nil
	}
	box, err := sandbox.Open(sandbox.Limits{Setting: "build.limits"})
	if err != nil {
		return nil, err
	}
	defer box.Close()
	if err := os.WriteFile(filepath.Join(box.Dir(), "key.asc"), publicKey, 0o644); err != nil {
		return nil, err
	}
	box.ReadOnly = []string{commonDir(files)}
	base := sandbox.Line("rpmkeys", "--dbpath", sandbox.Dir+"/db", "--define", "_pkgverify_level all")
	script := base + " --import " + sandbox.Dir + "/key.asc || exit 100\n" + base + " --checksig " + sandbox.Line(files...) + "\n"
	var log bytes.Buffer
	err = box.Run(context.Background(), &log, "sh", "-c", script)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() != 100) {
		return nil, fmt.Errorf("rpmkeys: %v: %s", err, safetext.Terminal(log.String()))
	}
	out := log.String()
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

// commonDir is the deepest folder holding every file.
func commonDir(files []string) string {
	dir := filepath.Dir(files[0])
	for _, f := range files[1:] {
		for dir != "/" && !strings.HasPrefix(f, dir+"/") {
			dir = filepath.Dir(dir)
		}
	}
	return dir
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
