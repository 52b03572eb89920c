// Package scaffold writes a new SIG repository: the plugin's main, a
// package with what the SIG offers (one repository, one RPM package), its
// tests with the SDK's conformance suite in process, a Makefile, an
// example config and a README. quarry sig new runs it; what it writes
// builds and passes its own tests at once (after go mod tidy).
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/quarrylinux/quarry/sdk"
)

//go:embed template
var templates embed.FS

// SDKModule is the SDK's module path.
const SDKModule = "github.com/quarrylinux/quarry/sdk"

// GoVersion is the go directive of the SDK's go.mod, which a SIG's module
// needs at least.
const GoVersion = "1.26.8"

// Options say what to write.
type Options struct {
	// Name is the SIG's: lower-case letters and digits, starting with a
	// letter (as quarry.yaml's sigs: names are).
	Name string
	// Module is the Go module path; default quarry-sig-<name>.
	Module string
	// SDKDir, when set, is a local copy of the SDK module the SIG's
	// go.mod replaces it with: until the SDK is published, or to work
	// on both at once.
	SDKDir string
	// SDKVersion is the SDK version to require; default this SDK's.
	SDKVersion string
	// Date is the package's first changelog entry; default today.
	Date time.Time
}

var (
	namePattern   = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	modulePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~/-]*$`)
)

// Write writes the SIG repository into dir, which must be empty or not
// exist, and returns the files written, relative to dir.
func Write(dir string, o Options) ([]string, error) {
	if !namePattern.MatchString(o.Name) {
		return nil, fmt.Errorf("sig name %q: lower-case letters and digits, starting with a letter", o.Name)
	}
	if o.Module == "" {
		o.Module = "quarry-sig-" + o.Name
	}
	if !modulePattern.MatchString(o.Module) || strings.Contains(o.Module, "//") || strings.Contains(o.Module, "..") || strings.HasSuffix(o.Module, "/") {
		return nil, fmt.Errorf("module path %q: letters, digits and ._~-, in /-separated elements", o.Module)
	}
	if o.SDKVersion == "" {
		o.SDKVersion = "v" + sdk.Version
	}
	if o.Date.IsZero() {
		o.Date = time.Now()
	}
	if o.SDKDir != "" {
		abs, err := filepath.Abs(o.SDKDir)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
			return nil, fmt.Errorf("--sdk %s: not the SDK module (no go.mod): %w", o.SDKDir, err)
		}
		o.SDKDir = abs
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty: a new SIG goes into a new folder", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data := struct {
		Name, Module, SDKDir, Date string
	}{o.Name, o.Module, o.SDKDir, o.Date.Format("Mon Jan 02 2006")}
	mod, sum, err := moduleFiles(o)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"go.mod": mod}
	if sum != nil {
		files["go.sum"] = sum
	}
	err = fs.WalkDir(templates, "template", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := templates.ReadFile(p)
		if err != nil {
			return err
		}
		t, err := template.New(p).Parse(string(raw))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return err
		}
		files[target(strings.TrimPrefix(p, "template/"), o.Name)] = b.Bytes()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scaffold: %w", err)
	}
	var written []string
	for _, name := range slices.Sorted(maps.Keys(files)) {
		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(full, files[name], 0o644); err != nil {
			return written, err
		}
		written = append(written, name)
	}
	return written, nil
}

// target is where a template is written.
func target(p, name string) string {
	p = strings.TrimSuffix(p, ".tmpl")
	switch path.Base(p) {
	case "gitignore":
		return path.Join(path.Dir(p), ".gitignore")
	case "motd.spec":
		return path.Join(path.Dir(p), name+"-motd.spec")
	}
	return p
}

// moduleFiles are the SIG's go.mod and, with a local SDK, its go.sum: the
// SDK's requirements as indirect ones and the SDK's own checksums, so
// that the new module builds and tests offline at once, with
// -mod=readonly. With a published SDK, go mod tidy fills them in.
func moduleFiles(o Options) (mod, sum []byte, err error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "module %s\n\ngo %s\n\nrequire %s %s\n", o.Module, GoVersion, SDKModule, o.SDKVersion)
	if o.SDKDir == "" {
		return b.Bytes(), nil, nil
	}
	sdkMod, err := os.ReadFile(filepath.Join(o.SDKDir, "go.mod"))
	if err != nil {
		return nil, nil, err
	}
	if sum, err = os.ReadFile(filepath.Join(o.SDKDir, "go.sum")); err != nil {
		return nil, nil, fmt.Errorf("--sdk %s: %w", o.SDKDir, err)
	}
	if reqs := requires(sdkMod); len(reqs) > 0 {
		b.WriteString("\nrequire (\n")
		for _, r := range reqs {
			fmt.Fprintf(&b, "\t%s // indirect\n", r)
		}
		b.WriteString(")\n")
	}
	fmt.Fprintf(&b, "\n// The SDK, until its module is published: then drop this line and\n// go get %s@latest.\nreplace %s => %s\n", SDKModule, SDKModule, modPath(o.SDKDir))
	return b.Bytes(), sum, nil
}

// requires are the "path version" lines of a go.mod's require
// directives, sorted.
func requires(gomod []byte) []string {
	var out []string
	block := false
	for _, line := range strings.Split(string(gomod), "\n") {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		switch {
		case block && len(f) == 1 && f[0] == ")":
			block = false
		case block && len(f) == 2:
			out = append(out, f[0]+" "+f[1])
		case len(f) == 2 && f[0] == "require" && f[1] == "(":
			block = true
		case len(f) == 3 && f[0] == "require":
			out = append(out, f[1]+" "+f[2])
		}
	}
	slices.Sort(out)
	return out
}

// modPath is a file path as go.mod writes it: quoted when it must be.
func modPath(p string) string {
	if strings.ContainsAny(p, " \t\"'`\\") {
		return strconv.Quote(p)
	}
	return p
}
