package intake

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/quarrylinux/quarry/plugins/policy"
	"github.com/quarrylinux/quarry/sdk"
)

// TestAttackSIGGitSourceReadsHostRepositories: a SIG package kept in git
// is fetched by the host (as root, with its file system, network and
// credentials), from whatever URL the plugin names. A plugin that cannot
// read /etc/shadow in its sandbox names a root-only repository on the
// host, here an etckeeper-style /etc/.git, at "HEAD" (no commit needed),
// and gets its files as its package's sources, which its spec then
// installs into an RPM that is signed and published. The gate must refuse
// a git source on the host's file system (a path or file://), and one
// that is not a pinned commit.
func TestAttackSIGGitSourceReadsHostRepositories(t *testing.T) {
	private := filepath.Join(t.TempDir(), "etc")
	if err := os.MkdirAll(private, 0o700); err != nil {
		t.Fatal(err)
	}
	runGit(t, private, "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(private, "shadow"), []byte("root:$6$host-root-password-hash:19000:0:99999:7:::\n"), 0o600)
	os.WriteFile(filepath.Join(private, "stolen.spec"), []byte("Name: stolen\n"), 0o644)
	runGit(t, private, "add", ".")
	runGit(t, private, "commit", "-q", "-m", "etckeeper")

	pkg := sdk.Package{Name: "stolen", Repo: "extras", Spec: "stolen.spec", Git: sdk.Git(private, "HEAD", "")}
	g := &policy.Gate{SIG: "thief", Distro: "pebble", Core: policy.Core{Names: map[string]bool{"banner": true}}, Limits: policy.DefaultLimits}
	vs := g.Packages([]sdk.Package{pkg}, []sdk.Repo{{ID: "extras"}})
	tree, err := (&Intake{}).tree(context.Background(), pkg)
	if len(vs) == 0 && err == nil {
		if f := tree["SOURCES/shadow"]; f != nil {
			t.Errorf("a SIG's git source %s at HEAD passed the gate, and the host read its root-only files into the SIG's sources: SOURCES/shadow = %q", private, f.Data)
		}
	}
}
