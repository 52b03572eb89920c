package optin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/quarrylinux/quarry/core/compose"
)

// RepoState is one repository of a .repo file and whether it is on.
type RepoState struct {
	ID      string
	Enabled bool
}

// header is the section a .repo line opens ("[id]", perhaps followed by
// a comment), or "".
func header(line string) string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "[") {
		return ""
	}
	if i := strings.Index(line, "]"); i > 1 {
		return strings.TrimSpace(line[1:i])
	}
	return ""
}

// sections reads a .repo file's sections, in order, with their keys.
func sections(data []byte) []map[string]string {
	var out []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case header(line) != "":
			out = append(out, map[string]string{"": header(line)})
		case len(out) > 0:
			if k, v, ok := strings.Cut(line, "="); ok {
				out[len(out)-1][strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// on is dnf's reading of an enabled= value; a section without one is on.
func on(v string, set bool) bool {
	if !set {
		return true
	}
	switch strings.ToLower(v) {
	case "0", "false", "no", "off":
		return false
	}
	return true
}

// States are the repositories of the SIG's .repo file under root, in
// its order; nil when there is no file.
func States(root, distro, sig string) ([]RepoState, error) {
	repoPath, _ := Paths(root, distro, sig, "")
	data, err := os.ReadFile(repoPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := []RepoState{}
	for _, s := range sections(data) {
		v, set := s["enabled"]
		out = append(out, RepoState{ID: s[""], Enabled: on(v, set)})
	}
	return out, nil
}

// setEnabled turns the sections named (every one, when ids is nil) on or
// off, changing only their enabled= lines, as dnf config-manager
// --set-enabled/--set-disabled does (a section without one gets one), and
// says how many sections it turned.
func setEnabled(data []byte, ids map[string]bool, enable bool) ([]byte, int) {
	val := "enabled=0"
	if enable {
		val = "enabled=1"
	}
	lines := strings.SplitAfter(string(data), "\n")
	var out []string
	matched := 0
	pending, eol := false, "\n"
	flush := func() {
		if pending {
			out = append(out, val+eol)
			pending = false
		}
	}
	for _, line := range lines {
		if line == "" {
			continue
		}
		body := strings.TrimRight(line, "\r\n")
		if strings.HasSuffix(line, "\r\n") {
			eol = "\r\n"
		}
		if id := header(body); id != "" {
			flush()
			pending = ids == nil || ids[id]
			if pending {
				matched++
			}
			out = append(out, line)
			continue
		}
		if k, _, ok := strings.Cut(strings.TrimSpace(body), "="); ok && strings.TrimSpace(k) == "enabled" && pending {
			out = append(out, val+line[len(body):])
			pending = false
			continue
		}
		if pending && strings.TrimSpace(body) == "" {
			flush() // at the end of the section, before its blank lines
		}
		out = append(out, line)
	}
	if pending && len(out) > 0 && !strings.HasSuffix(out[len(out)-1], "\n") {
		out[len(out)-1] += eol
	}
	flush()
	return []byte(strings.Join(out, "")), matched
}

// Owner names the installed package that owns path (a path on the
// machine under root, given as the machine sees it: /etc/...), or "".
type Owner func(root, path string) (string, error)

// RPMOwner asks the machine's rpm database under root. Only rpm's own
// "not owned" (or no such file) is taken for no owner: any other failure
// (a locked or unreadable database) is an error, so that nothing a
// package owns is ever taken for sig enable's and removed.
func RPMOwner(root, path string) (string, error) {
	if rpmDB(root) == "" {
		return "", nil // no database, so no package owns anything; and rpm would make one
	}
	args := []string{"-qf", "--qf", "%{NAME}\n", path}
	if root != "" && root != "/" {
		args = append([]string{"--root", root}, args...)
	}
	cmd := exec.Command("rpm", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return "", fmt.Errorf("%s is an rpm database, and there is no rpm here to ask which package owns %s", rpmDB(root), path)
	case errors.As(err, &ee) && ee.ExitCode() == 1 &&
		(strings.Contains(stdout.String(), "is not owned by any package") || strings.Contains(stderr.String(), "No such file or directory")):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("rpm -qf %s under %s: %v: %s", path, cleanRoot(root), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(strings.SplitN(stdout.String(), "\n", 2)[0]), nil
}

// rpmDB is the rpm database under root, if there is one.
func rpmDB(root string) string {
	for _, d := range []string{"var/lib/rpm", "usr/lib/sysimage/rpm", "root/.rpmdb"} {
		p := filepath.Join(cleanRoot(root), d)
		if entries, err := os.ReadDir(p); err == nil && len(entries) > 0 {
			return p
		}
	}
	return ""
}

// inRoot is path as the machine under root sees it.
func inRoot(root, path string) string {
	rel, err := filepath.Rel(cleanRoot(root), path)
	if err != nil {
		return path
	}
	return "/" + filepath.ToSlash(rel)
}

func cleanRoot(root string) string {
	if root == "" {
		return "/"
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return root
	}
	return abs
}

// Publication finds the publication the machine's own distribution .repo
// file points at: <distro>.repo (as <distro>-release installs it) with the
// section <distro>-sig-release that every core .repo file lists, whose
// baseurl is <publication>/sig/release/$basearch/. Another file's section
// of that name is not taken: only the distribution's own file says where
// its publication is. With more than one distribution's, the one
// /etc/os-release names wins. The index found there is still checked
// against its signature.
func Publication(root string) (from, distro string, err error) {
	dir := filepath.Join(cleanRoot(root), "etc", "yum.repos.d")
	files, _ := filepath.Glob(filepath.Join(dir, "*.repo"))
	slices.Sort(files)
	found := map[string]string{} // distro → publication
	var order []string
	suffix := "/" + compose.SIGReleaseDir + "/$basearch"
	for _, f := range files {
		d := strings.TrimSuffix(filepath.Base(f), ".repo")
		if !nameRE.MatchString(d) {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range sections(data) {
			fields := strings.Fields(s["baseurl"])
			if s[""] != d+"-sig-release" || len(fields) == 0 {
				continue
			}
			url, ok := strings.CutSuffix(strings.TrimRight(fields[0], "/"), suffix)
			if !ok || url == "" || strings.Contains(url, "$") {
				return "", "", fmt.Errorf("%s: [%s] baseurl %q is not <publication>%s/: give --from URL", f, s[""], s["baseurl"], suffix)
			}
			found[d] = url
			order = append(order, d)
		}
	}
	switch len(order) {
	case 0:
		return "", "", fmt.Errorf("no <distro>.repo file in %s names a Quarry publication (a [<distro>-sig-release] section): give --from URL", dir)
	case 1:
		return found[order[0]], order[0], nil
	}
	if id := osReleaseID(root); found[id] != "" {
		return found[id], id, nil
	}
	return "", "", fmt.Errorf("%s names the publications of %s: give --from URL", dir, strings.Join(order, ", "))
}

func osReleaseID(root string) string {
	data, err := os.ReadFile(filepath.Join(cleanRoot(root), "etc", "os-release"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "ID="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}
