package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// positions maps a key path as people write it (distribution.vendor,
// repositories[1].packages[0]) to the line it is on, so that every
// problem found after decoding still names file:line, without line fields
// in the types the rest of Quarry uses.
type positions struct {
	lines map[string]int
	order []string // paths in document order, for the path at a line
}

// readNode parses data into one YAML document whose top level is a
// mapping: an empty file, a file that is not a mapping, a syntax error or
// a second document are each their own clear error.
func readNode(file string, data []byte) (*yaml.Node, error) {
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalid(data)], []byte("\n"))
		return nil, &Error{Msg: fmt.Sprintf("%s:%d: not UTF-8 text", file, line)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) || len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{Msg: fmt.Sprintf("%s:1: the file is empty: it must describe the distribution (distribution:, upstream:, repositories:; see examples/distro/quarry.yaml)", file)}
	}
	if err != nil {
		return nil, decodeError(file, err, nil)
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Msg: fmt.Sprintf("%s:%d: the top level must be a mapping of keys (distribution:, upstream:, repositories:, ...), not %s", file, max(root.Line, 1), kindName(root))}
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &Error{Msg: fmt.Sprintf("%s:%d: a second YAML document: %s holds one", file, max(next.Line, 1), file)}
	} else if !errors.Is(err, io.EOF) {
		return nil, decodeError(file, err, nil)
	}
	return root, nil
}

func firstInvalid(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "empty"
}

// newPositions records the line of every key and list item under root.
func newPositions(root *yaml.Node) *positions {
	p := &positions{lines: map[string]int{"": max(root.Line, 1)}}
	p.walk(root, "")
	return p
}

func (p *positions) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			p.set(sub, k.Line)
			p.walk(n.Content[i+1], sub)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			sub := fmt.Sprintf("%s[%d]", path, i)
			p.set(sub, item.Line)
			p.walk(item, sub)
		}
	}
}

func (p *positions) set(path string, line int) {
	if _, ok := p.lines[path]; !ok {
		p.lines[path] = line
		p.order = append(p.order, path)
	}
}

// has reports whether path is written in the file.
func (p *positions) has(path string) bool {
	_, ok := p.lines[path]
	return ok
}

// line is the line of path or, when it is not written (a required key
// left out), of the nearest enclosing key that is.
func (p *positions) line(path string) int {
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return p.lines[""]
		}
		path = path[:i]
	}
}

// at names the key written at a line: the first one that ends in a key
// rather than a list index, since that is the field a type error is about.
func (p *positions) at(line int) string {
	first := ""
	for _, path := range p.order {
		if p.lines[path] != line {
			continue
		}
		if !strings.HasSuffix(path, "]") {
			return path
		}
		if first == "" {
			first = path
		}
	}
	return first
}

// decodeError turns yaml's "line N: msg" into "file:N: field: msg", one
// per line.
func decodeError(file string, err error, pos *positions) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var b strings.Builder
	for i, m := range msgs {
		// yaml quotes a value as it is, newlines too: one error, one line.
		m = strings.ReplaceAll(strings.TrimPrefix(m, "yaml: "), "\n", `\n`)
		if i > 0 {
			b.WriteString("\n")
		}
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if num, msg, ok := strings.Cut(rest, ": "); ok {
				fmt.Fprintf(&b, "%s:%s: %s", file, num, friendlier(msg, field(pos, num)))
				continue
			}
		}
		fmt.Fprintf(&b, "%s:1: %s", file, m)
	}
	return &Error{Msg: b.String()}
}

func field(pos *positions, num string) string {
	n, err := strconv.Atoi(num)
	if pos == nil || err != nil {
		return ""
	}
	return pos.at(n)
}

var (
	unknownField = regexp.MustCompile(`^field (\S+) not found in type config\.(\w+)$`)
	cannotDecode = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `([^`]*)`)? into (.+)$")
)

// friendlier rewords yaml's Go-flavoured messages for people editing YAML,
// naming the field when the line has one.
func friendlier(msg, path string) string {
	// An unknown key names itself and where it is.
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown key %q in %s", m[1], strings.ToLower(m[2]))
	}
	if strings.HasPrefix(msg, "unknown key ") {
		return msg
	}
	if m := cannotDecode.FindStringSubmatch(msg); m != nil {
		got := map[string]string{"!!seq": "a list", "!!map": "a mapping", "!!str": "a string", "!!int": "a number",
			"!!float": "a number", "!!bool": "true or false", "!!null": "empty"}[m[1]]
		if got == "" {
			got = m[1]
		}
		if m[2] != "" {
			got = fmt.Sprintf("%q", m[2])
		}
		msg = fmt.Sprintf("must be %s, not %s", yamlKind(m[3]), got)
	}
	if path != "" {
		return path + ": " + msg
	}
	return msg
}

// yamlKind says what yaml wants for a Go type, in YAML's words.
func yamlKind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case goType == "time.Duration":
		return "a duration like 10s or 2m"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "a mapping"
}
