package source_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/source"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestAnnotatedImportTags: OpenELA's and git.centos.org's imports/ tags
// are annotated tag objects. Over a local path and over file://, the
// newest tag and a pinned one import the commit git peels each to.
func TestAnnotatedImportTags(t *testing.T) {
	slow(t)
	for _, scheme := range []string{"path", "file"} {
		t.Run(scheme, func(t *testing.T) {
			im, dir := setup(t, nil)
			up := &fixtures.Upstream{Dir: filepath.Join(dir, "upstream"), Branch: "c9", Annotated: true}
			old, bumped := publishTallyBump(t, up)
			bare := filepath.Join(dir, "upstream", "rpms", "tally.git")
			// What git says each tag is, and names.
			gitSays := func(args ...string) string {
				out, err := exec.Command("git", append([]string{"-C", bare}, args...)...).Output()
				if err != nil {
					t.Fatalf("git %v: %v", args, err)
				}
				return strings.TrimSpace(string(out))
			}
			// The older tag, lightweight as the example made it, annotated too.
			gitSays("-c", "user.name=Summit", "-c", "user.email=releng@summit.example", "tag", "-f", "-a", "-m", "import "+old,
				"imports/c9/"+old, "imports/c9/"+old+"^{commit}")
			want := map[string]string{}
			for _, nvr := range []string{old, bumped} {
				tag := "imports/c9/" + nvr
				if typ := gitSays("cat-file", "-t", tag); typ != "tag" {
					t.Fatalf("%s is a %s, not an annotated tag", tag, typ)
				}
				want[nvr] = gitSays("rev-parse", tag+"^{commit}")
			}
			if scheme == "file" {
				im.Config.Upstream.DistGit.URL = "file://" + filepath.Join(dir, "upstream", "rpms", "{name}.git")
			}
			res, err := im.Import(context.Background(), lock.New(), []source.Request{{Name: "tally"}})
			if err != nil {
				t.Fatal(err)
			}
			if e := res[0].Entry; e.NVR != "tally-0.9-3.pbl9" || e.Upstream.Commit != want[bumped] {
				t.Errorf("newest tag: %s at %s, want tally-0.9-3.pbl9 at %s", e.NVR, e.Upstream.Commit, want[bumped])
			}
			res, err = im.Import(context.Background(), lock.New(), []source.Request{{Name: "tally", Ref: "imports/c9/" + old}})
			if err != nil {
				t.Fatal(err)
			}
			if e := res[0].Entry; e.NVR != "tally-0.9-2.pbl9" || e.Upstream.Commit != want[old] {
				t.Errorf("pinned tag: %s at %s, want tally-0.9-2.pbl9 at %s", e.NVR, e.Upstream.Commit, want[old])
			}
		})
	}
}
