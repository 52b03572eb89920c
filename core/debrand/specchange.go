package debrand

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/quarrylinux/quarry/core/store"
	pb "github.com/quarrylinux/quarry/proto/srpmproc"
)

// specChange edits the spec. Its operations run in this order, each kind in
// the order written: search_and_replace, file, append, new_field, changelog
// (the changelog entry names the version-release the other edits produce).
// An operation that finds nothing to act on is an error, never a silent
// no-op.
func specChange(c *Context, cfg *pb.Cfg) []error {
	sc := cfg.SpecChange
	if sc == nil {
		return nil
	}
	specPath, err := c.Tree.Spec()
	if err != nil {
		return []error{failf("spec_change", "%v", err)}
	}
	s := parseSpec(c.Tree[specPath].Data)
	var errs []error
	for i, op := range sc.SearchAndReplace {
		if err := searchAndReplace(s, op); err != nil {
			errs = append(errs, failf(fmt.Sprintf("spec_change.search_and_replace[%d]", i), "%v", err))
		}
	}
	for i, op := range sc.File {
		if err := fileOperation(s, op, sc.DisableAutoAlign); err != nil {
			errs = append(errs, failf(fmt.Sprintf("spec_change.file[%d] %s", i, op.Name), "%v", err))
		}
	}
	for i, op := range sc.Append {
		if err := appendOperation(s, op); err != nil {
			errs = append(errs, failf(fmt.Sprintf("spec_change.append[%d] %s", i, op.Field), "%v", err))
		}
	}
	for i, op := range sc.NewField {
		if err := newField(s, op, sc.DisableAutoAlign); err != nil {
			errs = append(errs, failf(fmt.Sprintf("spec_change.new_field[%d] %s", i, op.Key), "%v", err))
		}
	}
	if len(sc.Changelog) > 0 {
		if err := changelog(c, specPath, s, sc.Changelog); err != nil {
			errs = append(errs, failf("spec_change.changelog", "%v", err))
		}
	}
	c.Tree[specPath].Data = s.bytes()
	return errs
}

func searchAndReplace(s *spec, op *pb.SpecChange_SearchAndReplaceOperation) error {
	if op.Find == "" {
		return fmt.Errorf("find is empty")
	}
	if op.N == 0 {
		return fmt.Errorf("n is 0, which replaces nothing; use -1 for every occurrence")
	}
	n := int(op.N)
	matched := 0
	for i, line := range s.lines {
		switch id := op.Identifier.(type) {
		case *pb.SpecChange_SearchAndReplaceOperation_Field:
			name, value, ok := tag(line)
			if !ok || !strings.EqualFold(name, id.Field) || !strings.Contains(value, op.Find) {
				continue
			}
			colon := strings.Index(line, ":")
			head, rest := line[:colon+1], line[colon+1:]
			s.lines[i] = head + strings.Replace(rest, op.Find, op.Replace, n)
		case *pb.SpecChange_SearchAndReplaceOperation_Any:
			if !strings.Contains(line, op.Find) {
				continue
			}
			s.lines[i] = strings.Replace(line, op.Find, op.Replace, n)
		case *pb.SpecChange_SearchAndReplaceOperation_StartsWith:
			if !strings.HasPrefix(strings.TrimSpace(line), op.Find) {
				continue
			}
			s.lines[i] = strings.Replace(line, op.Find, op.Replace, n)
		case *pb.SpecChange_SearchAndReplaceOperation_EndsWith:
			if !strings.HasSuffix(strings.TrimSpace(line), op.Find) {
				continue
			}
			// Replace from the end: the occurrence that ends the line.
			at := strings.LastIndex(line, op.Find)
			s.lines[i] = line[:at] + op.Replace + line[at+len(op.Find):]
		default:
			return fmt.Errorf("says neither field, any, starts_with nor ends_with")
		}
		matched++
	}
	if matched == 0 {
		return fmt.Errorf("%q matches nothing in the spec", op.Find)
	}
	return nil
}

var patchApply = regexp.MustCompile(`^%patch\s*(-P\s*)?(\d+)\b|^%patch(\d+)\b`)

func fileOperation(s *spec, op *pb.SpecChange_FileOperation, noAlign bool) error {
	var kind string
	switch op.Type {
	case pb.SpecChange_FileOperation_Source:
		kind = "Source"
	case pb.SpecChange_FileOperation_Patch:
		kind = "Patch"
	default:
		return fmt.Errorf("type must be Source or Patch")
	}
	if op.Name == "" {
		return fmt.Errorf("name is empty")
	}
	existing := s.fileLines(kind)
	switch op.Mode.(type) {
	case *pb.SpecChange_FileOperation_Delete:
		for _, f := range existing {
			if f.value == op.Name || path.Base(f.value) == op.Name {
				s.remove(f.index)
				if kind == "Patch" {
					removePatchApply(s, f.number)
				}
				return nil
			}
		}
		return fmt.Errorf("no %s line names %s", kind, op.Name)
	case *pb.SpecChange_FileOperation_Add:
		number, at := 0, -1
		for _, f := range existing {
			if f.number >= number {
				number = f.number + 1
			}
			at = f.index + 1
		}
		if at < 0 {
			// No line of this kind: after the sources, else end of preamble.
			if src := s.fileLines("Source"); len(src) > 0 {
				at = src[len(src)-1].index + 1
			} else {
				at = s.preambleEnd()
			}
		}
		s.insert(at, align(kind+strconv.Itoa(number), op.Name, noAlign))
		if kind == "Patch" && op.AddToPrep {
			return applyInPrep(s, number, op.NPath)
		}
		return nil
	default:
		return fmt.Errorf("says neither add nor delete")
	}
}

// applyInPrep applies patch number in %prep, unless %prep applies every
// patch already (%autosetup without -N, %autopatch): applying twice fails.
func applyInPrep(s *spec, number int, strip int32) error {
	start, end, ok := s.sectionRange("%prep")
	if !ok {
		return fmt.Errorf("add_to_prep: the spec has no %%prep section")
	}
	for _, l := range s.lines[start:end] {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "%autopatch") || (strings.HasPrefix(t, "%autosetup") && !strings.Contains(t, " -N")) {
			return nil
		}
	}
	line := fmt.Sprintf("%%patch -P %d", number)
	if strip > 0 {
		line += fmt.Sprintf(" -p%d", strip)
	}
	s.insert(trimBlankEnd(s, start, end), line)
	return nil
}

func removePatchApply(s *spec, number int) {
	start, end, ok := s.sectionRange("%prep")
	if !ok {
		return
	}
	for i := start; i < end; i++ {
		m := patchApply.FindStringSubmatch(strings.TrimSpace(s.lines[i]))
		if m == nil {
			continue
		}
		n := m[2] + m[3]
		if n == strconv.Itoa(number) {
			s.remove(i)
			return
		}
	}
}

// trimBlankEnd moves end back over blank lines, so that appended lines stay
// in the section rather than after the blank line that ends it.
func trimBlankEnd(s *spec, start, end int) int {
	for end > start && strings.TrimSpace(s.lines[end-1]) == "" {
		end--
	}
	return end
}

func appendOperation(s *spec, op *pb.SpecChange_AppendOperation) error {
	if strings.HasPrefix(op.Field, "%") {
		start, end, ok := s.sectionRange(op.Field)
		if !ok {
			return fmt.Errorf("the spec has no %s section", op.Field)
		}
		s.insert(trimBlankEnd(s, start, end), op.Value)
		return nil
	}
	for i, l := range s.lines[:s.preambleEnd()] {
		if name, _, ok := tag(l); ok && strings.EqualFold(name, op.Field) {
			s.lines[i] = strings.TrimRight(l, " \t") + op.Value
			return nil
		}
	}
	return fmt.Errorf("the spec's preamble has no %s field", op.Field)
}

func newField(s *spec, op *pb.SpecChange_NewFieldOperation, noAlign bool) error {
	if fileTag.MatchString(op.Key) {
		return fmt.Errorf("use a file operation to add a %s", op.Key)
	}
	if op.Key == "" || strings.ContainsAny(op.Key, ": \t") {
		return fmt.Errorf("key %q is not a field name", op.Key)
	}
	end := s.preambleEnd()
	at := -1
	lastTag := -1
	for i, l := range s.lines[:end] {
		if name, _, ok := tag(l); ok {
			lastTag = i
			if strings.EqualFold(name, op.Key) {
				at = i + 1
			}
		}
	}
	if at < 0 {
		at = lastTag + 1
	}
	s.insert(at, align(op.Key, op.Value, noAlign))
	return nil
}

func changelog(c *Context, specPath string, s *spec, ops []*pb.SpecChange_ChangelogOperation) error {
	if c.EVR == nil {
		return fmt.Errorf("cannot evaluate the spec's version")
	}
	t := c.Tree.Clone()
	t[specPath] = &store.File{Data: s.bytes()}
	evr, err := c.EVR(t, specPath)
	if err != nil {
		return fmt.Errorf("cannot evaluate the spec's version: %v", err)
	}
	var entry []string
	for _, op := range ops {
		if op.AuthorName == "" || op.AuthorEmail == "" || len(op.Message) == 0 {
			return fmt.Errorf("an entry needs author_name, author_email and at least one message")
		}
		entry = append(entry, fmt.Sprintf("* %s %s <%s> - %s", c.Date.Format("Mon Jan 02 2006"), op.AuthorName, op.AuthorEmail, evr))
		for _, m := range op.Message {
			entry = append(entry, "- "+m)
		}
		entry = append(entry, "")
	}
	start, _, ok := s.sectionRange("%changelog")
	if !ok {
		s.lines = append(s.lines, "", "%changelog")
		start = len(s.lines)
		entry = entry[:len(entry)-1]
	}
	s.insert(start, entry...)
	return nil
}
