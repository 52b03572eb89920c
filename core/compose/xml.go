package compose

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Namespaces of the repodata documents.
const (
	nsCommon    = "http://linux.duke.edu/metadata/common"
	nsRPM       = "http://linux.duke.edu/metadata/rpm"
	nsFilelists = "http://linux.duke.edu/metadata/filelists"
	nsOther     = "http://linux.duke.edu/metadata/other"
	nsRepo      = "http://linux.duke.edu/metadata/repo"
)

// clean makes a header string fit for XML: characters XML 1.0 forbids are
// dropped, and text that is not UTF-8 is read as Windows-1252, the
// superset of Latin-1 that such text nearly always is (HTML reads a
// Latin-1 label the same way). createrepo_c reads it as Latin-1 but drops
// the bytes 0x80-0xBF, losing © ° ± ½ « » and the typographic quotes;
// Quarry keeps them (README: quarry repo index and createrepo_c).
func clean(s string) string {
	if !utf8.ValidString(s) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c < 0x80 || c >= 0xA0:
				b.WriteRune(rune(c))
			case cp1252[c-0x80] != 0:
				b.WriteRune(cp1252[c-0x80])
			}
		}
		s = b.String()
	}
	ok := true
	for _, r := range s {
		if !xmlChar(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		if xmlChar(r) {
			return r
		}
		return -1
	}, s)
}

// cp1252 is what Windows-1252 gives the bytes 0x80-0x9F (0: undefined,
// dropped); from 0xA0 it is Latin-1.
var cp1252 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#10;", "\r", "&#13;", "\t", "&#9;")
)

// plain says whether s is printable ASCII with nothing to escape, which
// clean and the escapers leave as it is: written as it is.
func plain(s string, attr bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '&' || c == '<' || c == '>' || (attr && c == '"') {
			return false
		}
	}
	return true
}

// escText writes s as XML text.
func (w *writer) escText(s string) {
	if plain(s, false) {
		w.WriteString(s)
		return
	}
	textEscaper.WriteString(w, clean(s))
}

// writer builds one package's XML fragment.
type writer struct{ strings.Builder }

func (w *writer) text(indent, elem, s string) {
	w.WriteString(indent)
	w.WriteString("<" + elem)
	if s == "" {
		w.WriteString("/>\n")
		return
	}
	w.WriteString(">")
	w.escText(s)
	w.WriteString("</" + elem + ">\n")
}

func (w *writer) attr(name, value string) {
	w.WriteString(" " + name + `="`)
	if plain(value, true) {
		w.WriteString(value)
	} else {
		attrEscaper.WriteString(w, clean(value))
	}
	w.WriteString(`"`)
}

func (w *writer) version(indent string, p *Package) {
	w.WriteString(indent + "<version")
	w.attr("epoch", p.Epoch)
	w.attr("ver", p.Version)
	w.attr("rel", p.Release)
	w.WriteString("/>\n")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// primaryXML is the package's entry in primary.xml.
func primaryXML(p *Package) string {
	var w writer
	w.WriteString("<package type=\"rpm\">\n")
	w.text("  ", "name", p.Name)
	w.text("  ", "arch", p.Arch)
	w.version("  ", p)
	w.WriteString("  <checksum type=\"sha256\" pkgid=\"YES\">" + p.PkgID + "</checksum>\n")
	w.text("  ", "summary", p.Summary)
	w.text("  ", "description", p.Description)
	w.text("  ", "packager", p.Packager)
	w.text("  ", "url", p.URL)
	w.WriteString("  <time file=\"" + itoa(p.FileTime) + "\" build=\"" + itoa(p.BuildTime) + "\"/>\n")
	w.WriteString("  <size package=\"" + itoa(p.PackageSize) + "\" installed=\"" + itoa(p.InstalledSize) + "\" archive=\"" + itoa(p.ArchiveSize) + "\"/>\n")
	w.WriteString("  <location")
	w.attr("href", p.Href)
	w.WriteString("/>\n")
	w.WriteString("  <format>\n")
	w.text("    ", "rpm:license", p.License)
	w.text("    ", "rpm:vendor", p.Vendor)
	w.text("    ", "rpm:group", p.Group)
	w.text("    ", "rpm:buildhost", p.BuildHost)
	w.text("    ", "rpm:sourcerpm", p.SourceRPM)
	w.WriteString("    <rpm:header-range start=\"" + itoa(int64(p.HeaderStart)) + "\" end=\"" + itoa(int64(p.HeaderEnd)) + "\"/>\n")
	for _, k := range depKinds {
		deps := p.Deps[k.Elem]
		if len(deps) == 0 {
			continue
		}
		w.WriteString("    <rpm:" + k.Elem + ">\n")
		for _, d := range deps {
			w.WriteString("      <rpm:entry")
			w.attr("name", d.Name)
			if d.Flags != "" {
				w.attr("flags", d.Flags)
				if d.Epoch != "" {
					w.attr("epoch", d.Epoch)
				}
				if d.Ver != "" {
					w.attr("ver", d.Ver)
				}
				if d.Rel != "" {
					w.attr("rel", d.Rel)
				}
			}
			if d.Pre {
				w.WriteString(` pre="1"`)
			}
			w.WriteString("/>\n")
		}
		w.WriteString("    </rpm:" + k.Elem + ">\n")
	}
	for _, f := range p.Files {
		if isPrimary(f.Path) {
			w.file("    ", f)
		}
	}
	w.WriteString("  </format>\n</package>\n")
	return w.String()
}

func (w *writer) file(indent string, f File) {
	w.WriteString(indent + "<file")
	if f.Type != "" {
		w.attr("type", f.Type)
	}
	w.WriteString(">")
	w.escText(f.Path)
	w.WriteString("</file>\n")
}

func (w *writer) pkgOpen(p *Package) {
	w.WriteString("<package")
	w.attr("pkgid", p.PkgID)
	w.attr("name", p.Name)
	w.attr("arch", p.Arch)
	w.WriteString(">\n")
	w.version("  ", p)
}

// filelistsXML is the package's entry in filelists.xml.
func filelistsXML(p *Package) string {
	var w writer
	w.pkgOpen(p)
	for _, f := range p.Files {
		w.file("  ", f)
	}
	w.WriteString("</package>\n")
	return w.String()
}

// otherXML is the package's entry in other.xml.
func otherXML(p *Package) string {
	var w writer
	w.pkgOpen(p)
	for _, c := range p.Changelogs {
		w.WriteString("  <changelog")
		w.attr("author", c.Author)
		w.attr("date", itoa(c.Date))
		w.WriteString(">")
		w.escText(c.Text)
		w.WriteString("</changelog>\n")
	}
	w.WriteString("</package>\n")
	return w.String()
}

func docHead(kind string, n int) string {
	switch kind {
	case "primary":
		return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"" + nsCommon + "\" xmlns:rpm=\"" + nsRPM + "\" packages=\"" + strconv.Itoa(n) + "\">\n"
	case "filelists":
		return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<filelists xmlns=\"" + nsFilelists + "\" packages=\"" + strconv.Itoa(n) + "\">\n"
	default:
		return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<otherdata xmlns=\"" + nsOther + "\" packages=\"" + strconv.Itoa(n) + "\">\n"
	}
}

func docTail(kind string) string {
	switch kind {
	case "primary":
		return "</metadata>\n"
	case "filelists":
		return "</filelists>\n"
	default:
		return "</otherdata>\n"
	}
}
