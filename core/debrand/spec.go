package debrand

import (
	"regexp"
	"strconv"
	"strings"
)

// spec is a spec file as lines, with just enough structure for spec_change:
// preamble tags ("Name: x") and section headers ("%prep").
type spec struct {
	lines []string
}

var (
	tagLine = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*)(\([^)]*\))?\s*:\s*(.*)$`)
	// Sections that end the preamble or another section.
	sectionNames = []string{"%package", "%description", "%prep", "%build", "%install", "%check",
		"%clean", "%files", "%changelog", "%pre", "%post", "%preun", "%postun", "%pretrans",
		"%posttrans", "%triggerin", "%triggerun", "%triggerpostun", "%filetriggerin",
		"%filetriggerun", "%transfiletriggerin", "%transfiletriggerun", "%verifyscript",
		"%generate_buildrequires", "%conf", "%patchlist", "%sourcelist"}
	fileTag = regexp.MustCompile(`(?i)^(source|patch)(\d*)$`)
)

func parseSpec(data []byte) *spec {
	s := strings.TrimSuffix(string(data), "\n")
	return &spec{lines: strings.Split(s, "\n")}
}

func (s *spec) bytes() []byte {
	return []byte(strings.Join(s.lines, "\n") + "\n")
}

// section returns the section a line starts ("%prep"), or "".
func section(line string) string {
	t := strings.TrimSpace(line)
	word, _, _ := strings.Cut(t, " ")
	for _, n := range sectionNames {
		if word == n {
			return n
		}
	}
	return ""
}

// tag splits a preamble line into its tag and value.
func tag(line string) (name, value string, ok bool) {
	m := tagLine.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[1], m[3], true
}

// preambleEnd is the index of the first section line (the preamble of the
// main package ends there).
func (s *spec) preambleEnd() int {
	for i, l := range s.lines {
		if section(l) != "" {
			return i
		}
	}
	return len(s.lines)
}

// fileTags lists the Source or Patch lines: index, number, value.
type fileLine struct {
	index  int
	number int
	value  string
}

func (s *spec) fileLines(kind string) []fileLine {
	var out []fileLine
	for i, l := range s.lines {
		if section(l) != "" && section(l) != "%package" {
			break
		}
		name, value, ok := tag(l)
		if !ok {
			continue
		}
		m := fileTag.FindStringSubmatch(name)
		if m == nil || !strings.EqualFold(m[1], kind) {
			continue
		}
		n := 0
		if m[2] != "" {
			n, _ = strconv.Atoi(m[2])
		}
		out = append(out, fileLine{index: i, number: n, value: strings.TrimSpace(value)})
	}
	return out
}

// sectionRange returns [start, end) of the body of the first section named
// name (the header line excluded), or ok=false.
func (s *spec) sectionRange(name string) (start, end int, ok bool) {
	for i, l := range s.lines {
		if section(l) == name {
			j := i + 1
			for j < len(s.lines) && section(s.lines[j]) == "" {
				j++
			}
			return i + 1, j, true
		}
	}
	return 0, 0, false
}

func (s *spec) insert(at int, lines ...string) {
	s.lines = append(s.lines[:at], append(append([]string{}, lines...), s.lines[at:]...)...)
}

func (s *spec) remove(at int) {
	s.lines = append(s.lines[:at], s.lines[at+1:]...)
}

// align formats "Key: value" with the value in the column other tags use.
func align(key, value string, disable bool) string {
	if disable {
		return key + ": " + value
	}
	pad := 16 - len(key) - 1
	if pad < 1 {
		pad = 1
	}
	return key + ":" + strings.Repeat(" ", pad) + value
}
