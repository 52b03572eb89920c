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
