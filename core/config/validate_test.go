package config

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// badCase changes the valid config (replacing from with to, or appending
// add after its last line, line 29) and expects an error that contains
// want, which starts with "quarry.yaml:<line>: <field>".
type badCase struct {
	name, from, to, add, want string
}

var fileLine = regexp.MustCompile(`^quarry\.yaml:[1-9][0-9]*: `)

func runBad(t *testing.T, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := valid + tc.add
			if tc.from != "" {
				if !strings.Contains(valid, tc.from) {
					t.Fatalf("test case does not apply: %q", tc.from)
				}
				text = strings.Replace(valid, tc.from, tc.to, 1) + tc.add
			}
			_, err := Parse("quarry.yaml", []byte(text))
			if err == nil {
				t.Fatalf("accepted; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !fileLine.MatchString(line) {
					t.Errorf("a line without file:line: %q", line)
				}
			}
		})
	}
}

func TestBadDecodingNamesFileLineAndField(t *testing.T) {
	runBad(t, []badCase{
		{name: "unknown key", from: "  vendor: Pebble Project\n", to: "  vendor: Pebble Project\n  colour: blue\n", want: `quarry.yaml:6: unknown key "colour" in distribution`},
		{name: "wrong type", from: "    optional: true\n", to: "    optional: [yes]\n", want: "quarry.yaml:22: repositories[1].optional: must be true or false, not a list"},
		{name: "not a duration", add: "plugins:\n  call_timeout: soon\n", want: `quarry.yaml:31: plugins.call_timeout: must be a duration like 10s or 2m, not "soon"`},
		{name: "unknown arch", from: "[x86_64, aarch64]", to: "[x86_64, armv7hl]", want: `quarry.yaml:7: distribution.arches: unknown arch "armv7hl"`},
		{name: "unknown key in a sig", add: "sigs:\n  - name: hello\n    confg: {}\n", want: `quarry.yaml:32: unknown key "confg" in sig`},
		{name: "duplicate key", from: "  vendor: Pebble Project\n", to: "  vendor: Pebble Project\n  vendor: Other\n", want: `quarry.yaml:6: mapping key "vendor" already defined at line 5`},
	})
}

func TestBadDistributionNamesFileLineAndField(t *testing.T) {
	runBad(t, []badCase{
		{name: "name upper case", from: "name: pebble", to: "name: Pebble", want: `quarry.yaml:2: distribution.name: "Pebble" must be lower-case`},
		{name: "name missing", from: "  name: pebble\n", to: "", want: "quarry.yaml:1: distribution.name: is required"},
		{name: "version is a path", from: `"9.4"`, to: `"9.4/../../x"`, want: `quarry.yaml:3: distribution.version: "9.4/../../x" must be a version`},
		{name: "version with a dash", from: `"9.4"`, to: `"9-stream"`, want: "quarry.yaml:3: distribution.version: "},
		{name: "version missing", from: "  version: \"9.4\"\n", to: "", want: "quarry.yaml:1: distribution.version: is required"},
		{name: "dist tag without dot", from: ".pbl9", to: "pbl9", want: `quarry.yaml:4: distribution.dist_tag: "pbl9" must start with a dot`},
		{name: "dist tag path", from: ".pbl9", to: ".pbl9/../x", want: "quarry.yaml:4: distribution.dist_tag: "},
		{name: "dist tag tilde", from: ".pbl9", to: ".pbl9~1", want: "quarry.yaml:4: distribution.dist_tag: "},
		{name: "dist tag dot dot", from: ".pbl9", to: ".pbl9..x", want: "quarry.yaml:4: distribution.dist_tag: "},
		{name: "dist tag .lock", from: ".pbl9", to: ".pbl9.lock", want: "quarry.yaml:4: distribution.dist_tag: "},
		{name: "vendor newline", from: "vendor: Pebble Project", to: `vendor: "Pebble\n%_topdir /tmp"`, want: `quarry.yaml:5: distribution.vendor: "Pebble\n%_topdir /tmp" must be one line`},
		{name: "vendor macro", from: "vendor: Pebble Project", to: `vendor: "Pebble %(id)"`, want: `quarry.yaml:5: distribution.vendor: "Pebble %(id)" must not contain "%"`},
		{name: "vendor continues the line", from: "vendor: Pebble Project", to: `vendor: 'Pebble \'`, want: `quarry.yaml:5: distribution.vendor: "Pebble \\" must not contain "\"`},
		{name: "vendor control character", from: "vendor: Pebble Project", to: `vendor: "Pebble\x1b[2J"`, want: "quarry.yaml:5: distribution.vendor: "},
		{name: "vendor bidi override", from: "vendor: Pebble Project", to: "vendor: \"Pebble\u202e\"", want: "quarry.yaml:5: distribution.vendor: "},
		{name: "vendor empty", from: "vendor: Pebble Project", to: `vendor: ""`, want: "quarry.yaml:5: distribution.vendor: is required"},
		{name: "packager macro", from: "packager: Pebble <releng@pebble.example>", to: `packager: "%{lua: os.execute()} Pebble <releng@pebble.example>"`, want: `quarry.yaml:6: distribution.packager: "%{lua: os.execute()} Pebble <releng@pebble.example>" must not contain "%"`},
		{name: "pretty name dnf variable", from: "  name: pebble\n", to: "  name: pebble\n  pretty_name: Pebble $basearch\n", want: `quarry.yaml:3: distribution.pretty_name: "Pebble $basearch" must not contain "$"`},
		{name: "pretty name ini injection", from: "  name: pebble\n", to: "  name: pebble\n  pretty_name: \"Pebble\\n[evil]\\nbaseurl=http://evil\"\n", want: "quarry.yaml:3: distribution.pretty_name: "},
		{name: "version macro rhel", from: "  name: pebble\n", to: "  name: pebble\n  version_macro: rhel\n", want: `quarry.yaml:3: distribution.version_macro: "rhel" is a macro rpm or Quarry already defines`},
		{name: "version macro dist", from: "  name: pebble\n", to: "  name: pebble\n  version_macro: dist\n", want: `quarry.yaml:3: distribution.version_macro: "dist" is a macro`},
		{name: "version macro not a name", from: "  name: pebble\n", to: "  name: pebble\n  version_macro: \"pebble 1\\n%dist x\"\n", want: "quarry.yaml:3: distribution.version_macro: "},
		{name: "no arch", from: "[x86_64, aarch64]", to: "[]", want: "quarry.yaml:7: distribution.arches: must list at least one"},
		{name: "duplicate arch", from: "[x86_64, aarch64]", to: "[x86_64, x86_64]", want: "quarry.yaml:7: distribution.arches[1]: x86_64 is listed twice (first on line 7)"},
	})
}

func TestBadSourcesNameFileLineAndField(t *testing.T) {
	runBad(t, []badCase{
		{name: "no name placeholder", from: "upstream/rpms/{name}.git", to: "upstream/rpms/x.git", want: `quarry.yaml:10: upstream.dist_git.url: "upstream/rpms/x.git" must contain {name}`},
		{name: "misspelt placeholder", from: "upstream/rpms/{name}.git", to: "upstream/rpms/{name}/{nmae}.git", want: "quarry.yaml:10: upstream.dist_git.url: \"upstream/rpms/{name}/{nmae}.git\" has the unknown placeholder {nmae} (known: {name})"},
		{name: "unmatched brace", from: "upstream/rpms/{name}.git", to: "upstream/rpms/{name}}.git", want: `quarry.yaml:10: upstream.dist_git.url: "upstream/rpms/{name}}.git" has an unmatched`},
		{name: "git scheme", from: "upstream/rpms/{name}.git", to: "ftp://git.example/{name}.git", want: "quarry.yaml:10: upstream.dist_git.url: \"ftp://git.example/{name}.git\" has the scheme ftp://"},
		{name: "url with a newline", from: "url: upstream/rpms/{name}.git", to: `url: "https://git.example/{name}.git\nx"`, want: "quarry.yaml:10: upstream.dist_git.url: "},
		{name: "url without host", from: "upstream/rpms/{name}.git", to: "https:///{name}.git", want: "quarry.yaml:10: upstream.dist_git.url: \"https:///{name}.git\" has no host"},
		{name: "branch with dot dot", from: "branch: c9", to: "branch: c9..x", want: `quarry.yaml:11: upstream.dist_git.branch: "c9..x" must not contain ".."`},
		{name: "branch option", from: "branch: c9", to: "branch: --upload-pack=x", want: `quarry.yaml:11: upstream.dist_git.branch: "--upload-pack=x" must not start with "-"`},
		{name: "branch colon", from: "branch: c9", to: `branch: "c9:x"`, want: "quarry.yaml:11: upstream.dist_git.branch: "},
		{name: "branch missing", from: "    branch: c9\n", to: "", want: "quarry.yaml:9: upstream.dist_git.branch: is required"},
		{name: "lookaside without hash", from: "{hashtype}/{hash}/{filename}", to: "{hashtype}/{filename}", want: "quarry.yaml:13: upstream.lookaside.url: "},
		{name: "lookaside scheme", from: "url: upstream/lookaside", to: "url: ssh://h/upstream/lookaside", want: "quarry.yaml:13: upstream.lookaside.url: "},
		{name: "both upstreams", from: "upstream:\n", to: "upstream:\n  srpms: srpms/\n", want: "quarry.yaml:8: upstream: give either dist_git or srpms"},
		{name: "srpms placeholder", from: "upstream:\n  dist_git:\n    url: upstream/rpms/{name}.git\n    branch: c9\n  lookaside:\n    url: upstream/lookaside/{name}/{filename}/{hashtype}/{hash}/{filename}\n",
			to: "upstream:\n  srpms: srpms/{name}\n", want: `quarry.yaml:9: upstream.srpms: "srpms/{name}" has the placeholder {name}, but takes none`},
		{name: "patches branch", from: "branch: r9", to: "branch: r9.lock", want: `quarry.yaml:16: patches.branch: "r9.lock" no part may`},
		{name: "patches url", from: "upstream/patch/{name}.git", to: "upstream/patch/{hash}.git", want: "quarry.yaml:15: patches.url: "},
		{name: "patches lookaside", from: "  branch: r9\n", to: "  branch: r9\n  lookaside: upstream/patch-lookaside/{name}\n", want: "quarry.yaml:17: patches.lookaside: "},
		{name: "push url", add: "push:\n  url: /tmp/downstream.git\n", want: `quarry.yaml:31: push.url: "/tmp/downstream.git" must contain {name}`},
		{name: "push branch placeholder", add: "push:\n  url: /tmp/{name}.git\n  branch: r{majr}\n", want: "quarry.yaml:32: push.branch: \"r{majr}\" has the unknown placeholder {majr} (known: {major})"},
		{name: "push branch ref", add: "push:\n  url: /tmp/{name}.git\n  branch: \"{major}.lock\"\n", want: `quarry.yaml:32: push.branch: "{major}.lock" no part may`},
		{name: "push lookaside url", add: "push:\n  url: /tmp/{name}.git\n  lookaside: https://h/x\n", want: `quarry.yaml:32: push.lookaside: "https://h/x" must be a local path`},
	})
}

func TestBadRepositoriesNameFileLineAndField(t *testing.T) {
	runBad(t, []badCase{
		{name: "source", from: "- name: CRB", to: "- name: source", want: `quarry.yaml:21: repositories[1].name: "source" is reserved`},
		{name: "Source", from: "- name: CRB", to: "- name: Source", want: `quarry.yaml:21: repositories[1].name: "Source" is reserved`},
		{name: "debug of another", from: "- name: CRB", to: "- name: BaseOS-debug", want: `quarry.yaml:21: repositories[1].name: "BaseOS-debug" ends in -debug`},
		{name: "debug in another case", from: "- name: CRB", to: "- name: baseos-DEBUG", want: "quarry.yaml:21: repositories[1].name: "},
		{name: "case twin", from: "- name: CRB", to: "- name: baseos", want: "quarry.yaml:21: repositories[1].name: repository baseos and BaseOS (line 19) are the same to dnf (repo id pebble-baseos)"},
		{name: "twice", from: "- name: CRB", to: "- name: BaseOS", want: "quarry.yaml:21: repositories[1].name: repository BaseOS is listed twice (first on line 19)"},
		{name: "sig release", from: "- name: CRB", to: "- name: sig-release", want: `quarry.yaml:21: repositories[1].name: "sig-release" starts with sig-`},
		{name: "space", from: "- name: CRB", to: "- name: Base OS", want: `quarry.yaml:21: repositories[1].name: "Base OS" must be letters`},
		{name: "too long", from: "- name: CRB", to: "- name: " + strings.Repeat("C", 65), want: "quarry.yaml:21: repositories[1].name: "},
		{name: "no name", from: "- name: CRB\n    optional: true\n", to: "- optional: true\n", want: "quarry.yaml:21: repositories[1].name: is required"},
		{name: "no repositories", from: valid[strings.Index(valid, "repositories:"):], to: "repositories: []\n", want: "quarry.yaml:18: repositories: must list at least one"},
		{name: "package path", from: "packages: [c]", to: "packages: [c, ../x]", want: `quarry.yaml:23: repositories[1].packages[1]: "../x" must be a valid RPM name`},
		{name: "package dot dot", from: "packages: [c]", to: "packages: [c, x..y]", want: `quarry.yaml:23: repositories[1].packages[1]: "x..y" must not contain ".."`},
		{name: "package twice", from: "packages: [c]", to: "packages: [c, a]", want: "quarry.yaml:23: repositories[1].packages[1]: package a is listed twice (first on line 20)"},
		{name: "package case twin", from: "packages: [c]", to: "packages: [c, A]", want: "quarry.yaml:23: repositories[1].packages[1]: package A and a (line 20) differ only in case"},
		{name: "unknown none", from: "none: [b]", to: "none: [zz]", want: "quarry.yaml:17: patches.none[0]: names zz, which no repository lists"},
		{name: "release package", add: "release:\n  package: summit-release\n", want: "quarry.yaml:31: release.package: names summit-release, which no repository lists"},
		{name: "group twice", from: "optional: [c-doc]", to: "optional: [c-doc, c]", want: "quarry.yaml:29: repositories[1].groups[0].packages.optional[1]: group devel lists c twice (first on line 28)"},
		{name: "group id", from: "id: devel", to: "id: Devel", want: `quarry.yaml:25: repositories[1].groups[0].id: "Devel" must be lower-case`},
		{name: "group name missing", from: "        name: Development\n", to: "", want: "quarry.yaml:25: repositories[1].groups[0].name: is required"},
		{name: "group name control", from: "name: Development", to: `name: "Devel\x00opment"`, want: "quarry.yaml:26: repositories[1].groups[0].name: "},
		{name: "group description control", from: "        name: Development\n", to: "        name: Development\n        description: \"a\\x01b\"\n", want: "quarry.yaml:27: repositories[1].groups[0].description: "},
		{name: "group package", from: "optional: [c-doc]", to: "optional: [c/doc]", want: `quarry.yaml:29: repositories[1].groups[0].packages.optional[0]: "c/doc" is not a valid RPM name`},
		{name: "unknown group key", from: "        name: Development\n", to: "        name: Development\n        colour: red\n", want: `quarry.yaml:27: unknown key "colour" in group`},
	})
}

func TestBadSettingsNameFileLineAndField(t *testing.T) {
	runBad(t, []badCase{
		{name: "both keys", add: "signing:\n  key: k.asc\n  gpg_key: 0123456789ABCDEF\n", want: "quarry.yaml:30: signing: give either key or gpg_key"},
		{name: "gpg user id", add: "signing:\n  gpg_key: Pebble\n", want: `quarry.yaml:31: signing.gpg_key: "Pebble" must be a long key id`},
		{name: "gpg option", add: "signing:\n  gpg_key: --homedir=/tmp/evil\n", want: "quarry.yaml:31: signing.gpg_key: "},
		{name: "key url", add: "signing:\n  key: https://h/k.asc\n", want: `quarry.yaml:31: signing.key: "https://h/k.asc" must be a local path`},
		{name: "passphrase newline", add: "signing:\n  passphrase_file: \"p\\nq\"\n", want: "quarry.yaml:31: signing.passphrase_file: "},
		{name: "publish url injection", add: "publish:\n  url: \"https://h/p\\ngpgcheck=0\"\n", want: "quarry.yaml:31: publish.url: "},
		{name: "publish url relative", add: "publish:\n  url: out/current\n", want: `quarry.yaml:31: publish.url: "out/current" must be an absolute URL`},
		{name: "publish url space", add: "publish:\n  url: https://h/a b\n", want: "quarry.yaml:31: publish.url: "},
		{name: "keep zero", add: "publish:\n  keep: 0\n", want: "quarry.yaml:31: publish.keep: 0: must be at least 1"},
		{name: "keep negative", add: "publish:\n  keep: -2\n", want: "quarry.yaml:31: publish.keep: -2: must be at least 1"},
		{name: "compression", add: "publish:\n  compression: xz\n", want: `quarry.yaml:31: publish.compression: "xz": use gz or zst`},
		{name: "sig release", add: "sigs:\n  - name: release\n", want: "quarry.yaml:31: sigs[0].name: release is reserved"},
		{name: "sig upper case", add: "sigs:\n  - name: Hello\n", want: `quarry.yaml:31: sigs[0].name: "Hello" must be lower-case`},
		{name: "sig twice", add: "sigs:\n  - name: hello\n  - name: hello\n", want: "quarry.yaml:32: sigs[1].name: sig hello is listed twice (first on line 31)"},
		{name: "sig release package is a core package", from: "packages: [c]", to: "packages: [c, pebble-release-hello]", add: "sigs:\n  - name: hello\n",
			want: "quarry.yaml:31: sigs[0].name: sig hello's release package pebble-release-hello would be the core package pebble-release-hello (line 23)"},
		{name: "plugin dir url", add: "plugins:\n  dirs: [bin, \"http://h/bin\"]\n", want: `quarry.yaml:31: plugins.dirs[1]: "http://h/bin" must be a local path`},
		{name: "zero timeout", add: "plugins:\n  start_timeout: 0s\n", want: "quarry.yaml:31: plugins.start_timeout: must be a positive duration"},
		{name: "negative timeout", add: "plugins:\n  call_timeout: -1m\n", want: "quarry.yaml:31: plugins.call_timeout: must be a positive duration"},
	})
}

// The file as a whole: each way of not being a config is its own message.
func TestBadFileNamesFileAndLine(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"empty", "", "quarry.yaml:1: the file is empty"},
		{"blank", "  \n\n\t\n", "quarry.yaml:1: the file is empty"},
		{"comments only", "# nothing yet\n", "quarry.yaml:1: the file is empty"},
		{"a list", "- distribution\n", "quarry.yaml:1: the top level must be a mapping of keys (distribution:, upstream:, repositories:, ...), not a list"},
		{"a scalar", "\n\npebble\n", `quarry.yaml:3: the top level must be a mapping of keys (distribution:, upstream:, repositories:, ...), not the value "pebble"`},
		{"syntax", valid[:40] + "  vendor: [x\n", "quarry.yaml:"},
		{"tab indent", "distribution:\n\tname: pebble\n", "quarry.yaml:2: found character that cannot start any token"},
		{"two documents", valid + "---\nmore: 1\n", "quarry.yaml:30: a second YAML document"},
		{"not utf-8", valid[:30] + "\xff\n", "quarry.yaml:3: not UTF-8 text"},
		{"sections missing", "publish:\n  keep: 2\n", "quarry.yaml:1: distribution: is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("quarry.yaml", []byte(tc.text))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to start with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "EOF") {
				t.Errorf("error says EOF: %v", err)
			}
		})
	}
}

// Every problem is reported at once, one per line, each with its line.
func TestEveryProblemAtOnce(t *testing.T) {
	text := strings.NewReplacer(`"9.4"`, `"9.4/x"`, "vendor: Pebble Project", `vendor: "a%b"`, "- name: CRB", "- name: source").Replace(valid)
	_, err := Parse("quarry.yaml", []byte(text))
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"quarry.yaml:3: distribution.version: ", "quarry.yaml:5: distribution.vendor: ", "quarry.yaml:21: repositories[1].name: "}
	if len(lines) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want %q...", i, lines[i], w)
		}
	}
}

func TestLimits(t *testing.T) {
	c, err := Parse("quarry.yaml", []byte(valid+"build:\n  limits:\n    time: 30m\n    processes: 512\n    disk: 4GiB\n    log: 16M\nplugins:\n  limits:\n    disk: 512MiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Build.Limits; l.Time.Minutes() != 30 || l.Processes != 512 || l.Disk != 4<<30 || l.Log != 16<<20 || c.Plugins.Limits.Disk != 512<<20 {
		t.Errorf("limits %+v %+v", l, c.Plugins.Limits)
	}
	runBad(t, []badCase{
		{name: "not a size", add: "build:\n  limits:\n    disk: lots\n", want: `quarry.yaml:32: build.limits.disk: "lots" is not a size`},
		{name: "tiny disk", add: "build:\n  limits:\n    disk: 1KiB\n", want: "quarry.yaml:32: build.limits.disk: must be at least 16MiB"},
		{name: "few processes", add: "build:\n  limits:\n    processes: 3\n", want: "quarry.yaml:32: build.limits.processes: must be at least 16"},
		{name: "zero time", add: "build:\n  limits:\n    time: 0s\n", want: "quarry.yaml:32: build.limits.time: must be a positive duration"},
		{name: "plugin time", add: "plugins:\n  limits:\n    time: 5m\n", want: "quarry.yaml:32: plugins.limits.time: a plugin's time is plugins.start_timeout"},
	})
}

func TestUpstreamKeysGoWithSRPMs(t *testing.T) {
	runBad(t, []badCase{
		{name: "keys with dist-git", from: "upstream:\n", to: "upstream:\n  keys: [upstream.asc]\n", want: "upstream.keys: checks SRPM signatures: it goes with upstream.srpms"},
	})
}

// build.engine: its URL alone or a mapping, each mistake named.
func TestBadEngineNamesFileLineAndField(t *testing.T) {
	runBad(t, []badCase{
		{name: "not a url", add: "build:\n  engine: localhost:4222\n", want: `quarry.yaml:31: build.engine: "localhost:4222" is not an engine`},
		{name: "http", add: "build:\n  engine: http://n1:4222\n", want: `quarry.yaml:31: build.engine: "http://n1:4222" is not an engine`},
		{name: "unknown key", add: "build:\n  engine:\n    url: embedded\n    replica: 3\n", want: `quarry.yaml:33: unknown key "replica" in engine`},
		{name: "a list", add: "build:\n  engine: [embedded]\n", want: "quarry.yaml:31: build.engine: must be a URL"},
		{name: "embedded replicas", add: "build:\n  engine:\n    url: embedded\n    replicas: 3\n", want: "quarry.yaml:33: build.engine.replicas: the embedded engine is one server"},
		{name: "too many replicas", add: "build:\n  engine:\n    url: nats://a:4222\n    replicas: 7\n", want: "quarry.yaml:33: build.engine.replicas: must be 1 to 5"},
		{name: "short ack wait", add: "build:\n  engine:\n    url: embedded\n    ack_wait: 10ms\n", want: "quarry.yaml:33: build.engine.ack_wait: must be a duration of a second or more"},
		{name: "no deliveries", add: "build:\n  engine:\n    url: embedded\n    max_deliveries: 0\n", want: "quarry.yaml:33: build.engine.max_deliveries: must be at least 1"},
		{name: "password in the url", add: "build:\n  engine: nats://q:s3cret@a:4222\n", want: `quarry.yaml:31: build.engine: "nats://q:xxxxx@a:4222" holds a user or password`},
		{name: "options without url", add: "build:\n  engine:\n    replicas: 3\n", want: "quarry.yaml:32: build.engine.replicas: is for an engine"},
	})
	for text, want := range map[string]Engine{
		"build:\n  engine: embedded\n":                                                  {URL: "embedded"},
		"build:\n  engine: nats://a:4222,nats://b:4222\n":                               {URL: "nats://a:4222,nats://b:4222"},
		"build:\n  engine:\n    url: tls://a:4222\n    replicas: 3\n    ack_wait: 2m\n": {URL: "tls://a:4222", Replicas: 3, AckWait: 2 * time.Minute},
	} {
		c, err := Parse("quarry.yaml", []byte(valid+text))
		if err != nil || c.Build.Engine != want {
			t.Errorf("%q: %+v %v, want %+v", text, c.Build.Engine, err, want)
		}
	}
}
