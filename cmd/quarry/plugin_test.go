package main_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// buildSIG builds a SIG plugin package into dir as quarry-sig-<name>.
func buildSIG(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	bin, err := fixtures.BuildPlugin(dir, name, pkg)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestPluginLockAndList: a SIG runs only once its binary is locked, and
// not after the binary changes; its config errors name quarry.yaml.
func TestPluginLockAndList(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	bin := buildSIG(t, filepath.Join(d.dir, "bin"), "hello", "./examples/hello-sig")
	raw, _ := os.ReadFile(d.config())
	d.writeConfig(string(raw) + "\nsigs:\n  - name: hello\n    config:\n      greeting: Hi from the test\n")

	_, stderr, code := d.run("plugin", "list")
	if code == 0 || !strings.Contains(stderr, "sig hello: "+bin+" is not in sigs.lock: run quarry plugin lock") {
		t.Errorf("list before lock: exit %d\n%s", code, stderr)
	}
	stdout := d.mustRun("plugin", "lock")
	if !strings.Contains(stdout, "hello") || !strings.Contains(stdout, "(locked)") {
		t.Errorf("lock: %s", stdout)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "sigs.lock")); err != nil {
		t.Fatal(err)
	}
	stdout = d.mustRun("plugin", "list")
	if !strings.Contains(stdout, "hello        1.0.0    api v1") || !strings.Contains(stdout, "pebble-sig-hello-extras") {
		t.Errorf("list: %s", stdout)
	}
	if out := d.mustRun("plugin", "lock"); !strings.Contains(out, "(unchanged)") {
		t.Errorf("second lock: %s", out)
	}

	// A config the SIG refuses names quarry.yaml, the SIG and the path.
	d.writeConfig(string(raw) + "\nsigs:\n  - name: hello\n    config:\n      greting: typo\n")
	_, stderr, code = d.run("plugin", "list")
	if code == 0 || !strings.Contains(stderr, `sigs[hello].config.error: greting: unknown key "greting"`) {
		t.Errorf("bad config: exit %d\n%s", code, stderr)
	}

	// A binary that changed after the lock does not run.
	f, _ := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("tampered"))
	f.Close()
	_, stderr, code = d.run("plugin", "list")
	if code == 0 || !strings.Contains(stderr, "the binary's sha256 does not match sigs.lock") {
		t.Errorf("tampered binary: exit %d\n%s", code, stderr)
	}
}

// TestPluginCheck: the conformance suite through the CLI, with a JUnit
// report for CI; a plugin that accepts any config fails its check and the
// command exits 1.
func TestPluginCheck(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	bin := filepath.Join(d.dir, "bin")
	hello := buildSIG(t, bin, "hello", "./examples/hello-sig")
	permissive := buildSIG(t, bin, "permissive", "./testing/plugins/permissive")
	report := filepath.Join(d.dir, "junit.xml")
	stdout := d.mustRun("plugin", "check", "--quick", "--junit", report, hello)
	if !strings.Contains(stdout, "pass  hello      configure-rejects") || !strings.Contains(stdout, "skip  hello      determinism") {
		t.Errorf("plugin check hello:\n%s", stdout)
	}
	suite := readJUnit(t, report)
	props := map[string]string{}
	for _, p := range suite.Properties {
		props[p.Name] = p.Value
	}
	if suite.Tests != 13 || suite.Failures != 0 || suite.Errors != 0 || suite.Timestamp == "" ||
		props["sig"] != "hello" || props["plugin.version"] == "" || props["plugin.sdk"] != sdk.Version || props["plugin.protocol"] != "[1]" {
		t.Errorf("junit report of hello: %+v", suite)
	}
	if _, err := time.Parse("2006-01-02T15:04:05", suite.Timestamp); err != nil {
		t.Errorf("junit timestamp: %v", err)
	}
	// One cause, one failure: the rest of the checks pass or are not
	// reached; the cause and its fix are in the failure's body.
	stdout, _, code := d.run("plugin", "check", "--quick", "--junit", report, permissive)
	if code != 1 || !strings.Contains(stdout, "fail  permissive configure-rejects") || !strings.Contains(stdout, "a config with an unknown key was accepted") ||
		!strings.Contains(stdout, "fix: in Configure, return req.Decode(&cfg)") {
		t.Errorf("plugin check permissive: exit %d\n%s", code, stdout)
	}
	suite = readJUnit(t, report)
	var failed []string
	for _, c := range suite.Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name)
			if !strings.Contains(c.Failure.Text, "a config with an unknown key was accepted") || !strings.Contains(c.Failure.Text, "req.Decode(&cfg)") {
				t.Errorf("junit failure body: %q", c.Failure.Text)
			}
		}
	}
	if suite.Failures != 1 || strings.Join(failed, " ") != "configure-rejects" {
		t.Errorf("junit report of permissive: failed %v, %+v", failed, suite)
	}
}

// junitSuite is what a CI reporter reads of a JUnit report.
type junitSuite struct {
	Tests      int    `xml:"tests,attr"`
	Failures   int    `xml:"failures,attr"`
	Errors     int    `xml:"errors,attr"`
	Timestamp  string `xml:"timestamp,attr"`
	Properties []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Cases []struct {
		Name    string `xml:"name,attr"`
		Failure *struct {
			Message string `xml:"message,attr"`
			Text    string `xml:",chardata"`
		} `xml:"failure"`
	} `xml:"testcase"`
}

// readJUnit parses a JUnit report with one suite.
func readJUnit(t *testing.T, path string) junitSuite {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Suites []junitSuite `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &r); err != nil || len(r.Suites) != 1 {
		t.Fatalf("junit report: %v\n%s", err, data)
	}
	return r.Suites[0]
}

// TestPluginDevOverride: a SIG lead's local build runs without a re-lock,
// marked on every launch, sigs.lock untouched; nothing built with it is
// published, by quarry build or by quarry publish after --no-publish,
// with the override or after it is cleared; cleared, the locked plugin
// runs and the build publishes again.
func TestPluginDevOverride(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	raw, _ := os.ReadFile(d.config())
	text := string(raw)
	if i := strings.Index(text, "\nsigs:\n"); i >= 0 {
		text = text[:i]
	}
	d.writeConfig(text + "\nsigs:\n  - name: hello\n    config:\n      greeting: Hi\n")
	locked := buildSIG(t, filepath.Join(d.dir, "bin"), "hello", "./examples/hello-sig")
	d.keyInit()
	d.mustRun("key", "init", "--bits", "2048", "--sig", "hello")
	d.mustRun("plugin", "lock")
	sigsLock, err := os.ReadFile(filepath.Join(d.dir, "sigs.lock"))
	if err != nil {
		t.Fatal(err)
	}
	// The local build: other bytes than the locked binary's.
	data, err := os.ReadFile(locked)
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "quarry-sig-hello")
	if err := os.WriteFile(local, append(data, "local build"...), 0o755); err != nil {
		t.Fatal(err)
	}
	d.mustRun("plugin", "dev", "hello", local)
	if out := d.mustRun("plugin", "dev"); !strings.Contains(out, "hello") || !strings.Contains(out, local) {
		t.Errorf("plugin dev lists %q", out)
	}
	_, stderr, code := d.run("plugin", "list")
	if code != 0 || !strings.Contains(stderr, "NOT THE LOCKED PLUGIN: dev override "+local) {
		t.Errorf("plugin list with an override: exit %d\n%s", code, stderr)
	}
	_, stderr, code = d.run("build")
	if code != 1 || !strings.Contains(stderr, "sig hello runs the dev override "+local) || !strings.Contains(stderr, "--no-publish") {
		t.Errorf("build that would publish with an override: exit %d\n%s", code, stderr)
	}
	if _, stderr, code = d.run("build", "--no-publish"); code != 0 {
		t.Fatalf("build --no-publish with an override: exit %d\n%s", code, stderr)
	}
	_, stderr, code = d.run("publish")
	if code != 1 || !strings.Contains(stderr, "sig hello runs the dev override "+local) || !strings.Contains(stderr, "locked plugins only") {
		t.Errorf("publish with an override: exit %d\n%s", code, stderr)
	}
	// With the override gone, the build it made is still not published.
	d.mustRun("plugin", "dev", "--clear", "hello")
	if out := d.mustRun("plugin", "dev"); out != "" {
		t.Errorf("plugin dev after --clear lists %q", out)
	}
	_, stderr, code = d.run("publish")
	if code == 0 || !strings.Contains(stderr, "not published: sig hello ran dev override "+local) {
		t.Errorf("publish of a build made with an override: exit %d\n%s", code, stderr)
	}
	if _, err := os.Lstat(filepath.Join(d.out(), "current")); !os.IsNotExist(err) {
		t.Errorf("something was published: %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(d.dir, "sigs.lock")); string(now) != string(sigsLock) {
		t.Errorf("sigs.lock changed:\n%s", now)
	}
	if out := d.mustRun("build"); !strings.Contains(out, "published compose") {
		t.Errorf("build with the locked plugin published nothing:\n%s", out)
	}
}
