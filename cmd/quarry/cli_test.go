package main_test

// These tests run the quarry binary the way a maintainer does, and check
// what the process promises: exit codes, stdout vs stderr, and that bad
// input or a kill -9 leaves quarry.lock as it was.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

var (
	quarryBin string
	generated = &fixtures.Generated{Example: exampleDir()}
)

func exampleDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "distro")
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "quarry-bin-")
	if err != nil {
		panic(err)
	}
	quarryBin = filepath.Join(dir, "quarry")
	build := exec.Command("go", "build", "-o", quarryBin, ".") // go test puts its toolchain first in PATH
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	generated.Cleanup()
	os.RemoveAll(dir)
	os.Exit(code)
}

// distro is a copy of the example distribution with its generated upstream.
type distro struct {
	t     *testing.T
	dir   string
	state string
}

func newDistro(t *testing.T) *distro {
	t.Helper()
	dir := t.TempDir()
	if _, err := generated.Distro(dir, nil); err != nil {
		t.Fatal(err)
	}
	return &distro{t: t, dir: dir, state: filepath.Join(dir, "state")}
}

func (d *distro) config() string { return filepath.Join(d.dir, "quarry.yaml") }
func (d *distro) lock() string   { return filepath.Join(d.state, "quarry.lock") }

func (d *distro) writeConfig(text string) {
	d.t.Helper()
	if err := os.WriteFile(d.config(), []byte(text), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

func (d *distro) editConfig(old, new string) {
	d.t.Helper()
	raw, _ := os.ReadFile(d.config())
	if !bytes.Contains(raw, []byte(old)) {
		d.t.Fatalf("config has no %q", old)
	}
	d.writeConfig(strings.Replace(string(raw), old, new, 1))
}

func (d *distro) command(args ...string) *exec.Cmd {
	cmd := exec.Command(quarryBin, append([]string{"--config", d.config(), "--state", d.state}, args...)...)
	cmd.Dir = d.dir // so the default --out is the test's
	return cmd
}

// keyInit makes the core signing key (2048 bits: quicker, same code).
func (d *distro) keyInit() {
	d.t.Helper()
	d.mustRun("key", "init", "--bits", "2048")
}

// run runs quarry and returns stdout, stderr and the exit code.
func (d *distro) run(args ...string) (string, string, int) {
	d.t.Helper()
	return d.runEnv(nil, args...)
}

// runEnv runs quarry with more environment variables.
func (d *distro) runEnv(env []string, args ...string) (string, string, int) {
	d.t.Helper()
	cmd := d.command(args...)
	cmd.Env = append(os.Environ(), env...)
	return runCmd(d.t, cmd)
}

// runCmd runs a command and returns stdout, stderr and the exit code.
func runCmd(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func (d *distro) mustRun(args ...string) string {
	d.t.Helper()
	out, errOut, code := d.run(args...)
	if code != 0 {
		d.t.Fatalf("quarry %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func (d *distro) readLock() []byte {
	d.t.Helper()
	b, err := os.ReadFile(d.lock())
	if err != nil {
		d.t.Fatal(err)
	}
	return b
}

// publish commits packages to the distribution's generated upstream.
func (d *distro) publish(pkgs ...fixtures.Package) {
	d.t.Helper()
	up := &fixtures.Upstream{Dir: filepath.Join(d.dir, "upstream"), Branch: "c9"}
	for _, p := range pkgs {
		if _, err := up.Publish(p); err != nil {
			d.t.Fatal(err)
		}
	}
}

// bump publishes a new upstream release of an example package, changed by
// edit when given.
func (d *distro) bump(name string, edit ...func(*fixtures.Package)) string {
	d.t.Helper()
	p, err := fixtures.LoadPackage(filepath.Join(exampleDir(), "packages", name))
	if err != nil {
		d.t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(Release:\s*)(\d+)`)
	m := re.FindSubmatch(p.Spec)
	n, _ := strconv.Atoi(string(m[2]))
	p.Spec = re.ReplaceAll(p.Spec, []byte("${1}"+strconv.Itoa(n+1)))
	p.NVR = strings.Replace(p.NVR, "-"+string(m[2])+".el9", "-"+strconv.Itoa(n+1)+".el9", 1)
	for _, e := range edit {
		e(p)
	}
	d.publish(*p)
	return p.NVR
}

// checkStore verifies that every blob in the store has the content its name
// says: nothing half-written is ever under its final name.
func (d *distro) checkStore() {
	d.t.Helper()
	root := filepath.Join(d.state, "store", "blobs", "sha256")
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != e.Name() {
			d.t.Errorf("store blob %s holds other content", path)
		}
		return nil
	})
	if err != nil {
		d.t.Fatal(err)
	}
}

func TestHelpNamesTheCommands(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(quarryBin, "--help").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"import", "debrand", "--config", "--state", "--log-level", "--json"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
}

// TestHelpAndMistypedCommands: quarry help CMD is that command's help; a
// mistyped command fails, saying what was meant; an error is printed
// once, with one prefix (urfave/cli neither prints nor exits itself).
func TestHelpAndMistypedCommands(t *testing.T) {
	slow(t)
	t.Parallel()
	out, errOut, code := runCmd(t, exec.Command(quarryBin, "help", "build"))
	if code != 0 || !strings.Contains(out, "quarry build - the whole pipeline") || errOut != "" {
		t.Errorf("help build: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runCmd(t, exec.Command(quarryBin, "biuld"))
	if code == 0 || out != "" || errOut != "quarry: No help topic for 'biuld'. Did you mean \"build\"?\n" {
		t.Errorf("biuld: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	d := newDistro(t)
	_, errOut, code = d.run("import", "--unpin")
	if code != 2 || errOut != "quarry: --unpin needs the packages to unpin\n" {
		t.Errorf("import --unpin: exit %d, stderr %q", code, errOut)
	}
}

func TestMalformedConfigNamesFileAndLine(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.editConfig("  dist_tag: .pbl9\n", "  dist_tag: .pbl9\n  disttag: .pbl9\n")
	out, errOut, code := d.run("import")
	if code == 0 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, d.config()+`:12: unknown key "disttag" in distribution`) {
		t.Errorf("stderr does not name file:line and the key:\n%s", errOut)
	}
	if _, err := os.Stat(d.state); !os.IsNotExist(err) {
		t.Errorf("a config error created the state folder")
	}
}

// A failed re-import, whatever the cause, leaves the lock byte-identical,
// exits non-zero and names the package.
func TestBadInputLeavesTheLockAlone(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	first := d.mustRun("import")
	if !strings.Contains(first, "22 packages, 22 changed") {
		t.Fatalf("first import:\n%s", first)
	}
	before := d.readLock()
	cases := []struct {
		name   string
		break_ func()
		want   string
	}{
		{"missing lookaside source", func() {
			d.bump("libtally", func(p *fixtures.Package) {
				for name := range p.Archives {
					p.Archives[name] = []byte("a new tarball")
				}
			})
			os.RemoveAll(filepath.Join(d.dir, "upstream", "lookaside", "libtally"))
		}, "import libtally: lookaside source libtally-"},
		{"missing patch repository", func() {
			d.editConfig("none: [kernel, ", "none: [")
		}, "import kernel: patch repository "},
		{"package not in the config", func() {}, "import nosuch: not a package of"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.break_()
			args := []string{"import"}
			if tc.name == "package not in the config" {
				args = append(args, "nosuch")
			}
			out, errOut, code := d.run(args...)
			if code == 0 {
				t.Fatalf("exit 0; stdout:\n%s", out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, errOut)
			}
			if !bytes.Equal(d.readLock(), before) {
				t.Errorf("the lock changed")
			}
		})
	}
	d.checkStore()
}

// kill -9 in the middle of an import that changes packages: the lock is the
// one from before, the store holds nothing corrupt, and the next import
// completes.
func TestKilledImportResumes(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.mustRun("import")
	before := d.readLock()
	bumped := map[string]string{}
	for _, name := range []string{"greet", "tally", "calcium", "wordfreq", "sysstat-lite", "legacy-io"} {
		bumped[name] = d.bump(name)
	}

	cmd := d.command("--json", "import", "--jobs", "1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for two packages to be imported, then kill.
	imported := 0
	sc := bufio.NewScanner(stdout)
	for imported < 2 && sc.Scan() {
		var ev struct{ Event, Package, Status string }
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event == "import" && ev.Status == "imported" {
			imported++
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if imported < 2 {
		t.Fatalf("saw %d imported events before the end of output", imported)
	}
	if !bytes.Equal(d.readLock(), before) {
		t.Fatal("a killed import changed the lock")
	}
	d.checkStore()

	out := d.mustRun("import")
	if !strings.Contains(out, "22 packages, 6 changed") {
		t.Errorf("resumed import:\n%s", out)
	}
	var lk struct {
		Packages map[string]struct{ NVR string } `json:"packages"`
	}
	if err := json.Unmarshal(d.readLock(), &lk); err != nil {
		t.Fatal(err)
	}
	for name, nvr := range bumped {
		want := strings.Replace(nvr, ".el9", ".pbl9", 1)
		if got := lk.Packages[name].NVR; !strings.HasPrefix(got, want) {
			t.Errorf("%s pinned at %s, want %s", name, got, want)
		}
	}
}
