// Package debrand applies srpmproc-compatible directive files to a package
// tree. Directive files (*.cfg, protobuf text format) live in a per-package
// patch repository under PATCHES/ or ROCKY/CFG/; those of the main branch
// apply first, then those of the branch named like the target.
//
// Within a file the directives run in srpmproc's fixed order: replace,
// delete, add, patch, lookaside, spec_change. Every failure of a package is
// collected and reported together, each naming the directive file, the
// directive and what failed.
package debrand

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/prototext"

	"github.com/quarrylinux/quarry/core/store"
	pb "github.com/quarrylinux/quarry/proto/srpmproc"
)

// Context is what a directive works on.
type Context struct {
	// Package is the source package's name, for messages.
	Package string
	// Tree is the package tree being debranded; directives change it.
	Tree store.Tree
	// Patches is the patch repository at the commit being applied.
	Patches fs.FS
	// Lookaside fetches an object named by hash (with_lookaside, add.lookaside).
	Lookaside func(hash string) ([]byte, error)
	// Date dates new changelog entries and archive members. It is the patch
	// commit's time, never the clock, so the output depends only on inputs.
	Date time.Time
	// EVR evaluates the [epoch:]version-release of the spec at spec in
	// tree (the package's tree with the spec as edited so far: a spec may
	// %include its sources), dist tag aside, for changelog entries.
	EVR func(tree store.Tree, spec string) (string, error)
}

// A Directive applies one kind of directive of cfg and returns what failed.
type Directive struct {
	Name  string
	Apply func(c *Context, cfg *pb.Cfg) []error
}

// Order is srpmproc's fixed order of directives.
var Order = []Directive{
	{"replace", replace},
	{"delete", del},
	{"add", add},
	{"patch", patch},
	{"lookaside", lookaside},
	{"spec_change", specChange},
}

// File is one directive file of a patch repository.
type File struct {
	Branch string // main or the target branch
	Path   string // PATCHES/x.cfg or ROCKY/CFG/x.cfg
	Cfg    *pb.Cfg
}

// Error is one failed directive.
type Error struct {
	Package   string
	Branch    string
	File      string
	Directive string
	Err       error
}

func (e *Error) Error() string {
	where := e.File
	if e.Branch != "" {
		where = fmt.Sprintf("%s (branch %s)", e.File, e.Branch)
	}
	if e.Directive == "" {
		return fmt.Sprintf("debrand %s: %s: %v", e.Package, where, e.Err)
	}
	return fmt.Sprintf("debrand %s: %s: %s: %v", e.Package, where, e.Directive, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errors is every failure of a package, reported together.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Load reads the directive files of one branch of a patch repository:
// PATCHES/*.cfg if PATCHES/ exists, else ROCKY/CFG/*.cfg, sorted by name.
// A file that does not parse is an error naming it.
func Load(repo fs.FS, branch string) ([]File, Errors) {
	dir := "PATCHES"
	if _, err := fs.Stat(repo, dir); err != nil {
		dir = "ROCKY/CFG"
	}
	entries, err := fs.ReadDir(repo, dir)
	if err != nil {
		return nil, nil // no directives on this branch
	}
	var files []File
	var errs Errors
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".cfg") {
			continue
		}
		p := path.Join(dir, e.Name())
		raw, err := fs.ReadFile(repo, p)
		if err == nil {
			cfg := &pb.Cfg{}
			if err = prototext.Unmarshal(raw, cfg); err == nil {
				files = append(files, File{Branch: branch, Path: p, Cfg: cfg})
				continue
			}
		}
		errs = append(errs, &Error{Branch: branch, File: p, Err: fmt.Errorf("cannot read directives: %w", err)})
	}
	return files, errs
}

// Apply runs every directive of files, in order, on c.Tree. The tree may be
// partly changed when errors are returned: callers work on a clone.
func Apply(c *Context, files []File) Errors {
	var errs Errors
	for _, f := range files {
		for _, d := range Order {
			for _, err := range d.Apply(c, f.Cfg) {
				e := &Error{Package: c.Package, Branch: f.Branch, File: f.Path, Err: err}
				if de, ok := err.(*directiveError); ok {
					e.Directive, e.Err = de.where, de.err
				} else {
					e.Directive = d.Name
				}
				errs = append(errs, e)
			}
		}
	}
	return errs
}

// directiveError locates a failure inside a directive file: "replace[1]".
type directiveError struct {
	where string
	err   error
}

func (e *directiveError) Error() string { return e.where + ": " + e.err.Error() }

func failf(where string, format string, args ...any) error {
	return &directiveError{where: where, err: fmt.Errorf(format, args...)}
}

// treePath is where a file named in a directive lives in the tree: a bare
// name or a path outside SOURCES/ and SPECS/ is taken to be under SOURCES/,
// as srpmproc does.
func treePath(name string) (string, error) {
	p, err := store.CleanPath(name)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(p, "SOURCES/") || strings.HasPrefix(p, "SPECS/") {
		return p, nil
	}
	return "SOURCES/" + p, nil
}

// readPatchFile reads a file of the patch repository.
func readPatchFile(c *Context, name string) ([]byte, bool, error) {
	p, err := store.CleanPath(name)
	if err != nil {
		return nil, false, err
	}
	data, err := fs.ReadFile(c.Patches, p)
	if err != nil {
		return nil, false, fmt.Errorf("%s is not in the patch repository", name)
	}
	info, err := fs.Stat(c.Patches, p)
	exec := err == nil && info.Mode()&0o111 != 0
	return data, exec, nil
}

// fetchLookaside fetches and checks an object named by hash.
func fetchLookaside(c *Context, hash string) ([]byte, error) {
	if c.Lookaside == nil {
		return nil, fmt.Errorf("lookaside object %s: no patch lookaside is configured (patches.lookaside)", hash)
	}
	return c.Lookaside(hash)
}
