// Package rpmspec reads a spec with rpmspec, inside a sandbox. A spec is
// code: rpm expands its macros while parsing it, and %(...) runs a shell,
// %{lua:...} runs Lua. Upstream's, a patch repository's and a SIG's specs
// are untrusted, so the host never parses one itself.
package rpmspec

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/quarrylinux/quarry/core/safetext"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/store"
)

// Macros are rpm's own macro files, without the host's /etc/rpm and
// ~/.rpmmacros, which must not change what a spec says.
const Macros = "/usr/lib/rpm/macros:/usr/lib/rpm/macros.d/macros.*:/usr/lib/rpm/platform/%{_target}/macros:" +
	"/usr/lib/rpm/fileattrs/*.attr:/usr/lib/rpm/debian/macros"

// maxOutput bounds what one query prints.
const maxOutput = 1 << 20

// BuildShell is the shell rpm runs a spec's scripts with
// (%_buildshell): EL specs are written for bash, and Debian's /bin/sh is
// dash (${v//a/b} is a "Bad substitution" there).
const BuildShell = "/bin/bash"

// Query evaluates qf over the source package of the spec at spec, a path
// of tree (SPECS/x.spec), with defines ("dist .el9") set. The tree is laid
// out as rpmbuild's _topdir, and rpm runs from the folder above it, as it
// does for an SRPM's build (core/srpm, core/build): a spec that %includes
// %{SOURCE1} or %{_sourcedir}/x finds it, a relative %include looks in the
// current folder, as rpmbuild's does.
func Query(ctx context.Context, limits sandbox.Limits, tree store.Tree, spec, qf string, defines ...string) (string, error) {
	if _, ok := tree[spec]; !ok {
		return "", fmt.Errorf("%s is not in the tree", spec)
	}
	box, err := sandbox.Open(limits)
	if err != nil {
		return "", err
	}
	defer box.Close()
	if err := tree.WriteTo(filepath.Join(box.Dir(), "top")); err != nil {
		return "", err
	}
	top := sandbox.Dir + "/top"
	argv := []string{"rpmspec", "--macros", Macros, "--define", "_topdir " + top, "--define", "_buildshell " + BuildShell}
	for _, d := range defines {
		argv = append(argv, "--define", d)
	}
	argv = append(argv, "-q", "--srpm", "--qf", qf, top+"/"+spec)
	var log bytes.Buffer
	err = box.Run(ctx, &log, "sh", "-c", sandbox.Line(argv...)+" > "+sandbox.Dir+"/.query")
	if err != nil {
		if sandbox.IsLimit(err) {
			return "", fmt.Errorf("rpmspec %s: %w", spec, err)
		}
		msg := safetext.Tail(strings.TrimSpace(strings.ReplaceAll(log.String(), top+"/"+spec, spec)), 20)
		return "", fmt.Errorf("rpmspec cannot read %s: %s", spec, msg)
	}
	out, err := box.ReadFile(".query", maxOutput)
	if err != nil {
		return "", fmt.Errorf("rpmspec %s: %w", spec, err)
	}
	return strings.TrimSpace(string(out)), nil
}
