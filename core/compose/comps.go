package compose

import "strconv"

// Group is one comps group: what `dnf group install ID` installs.
type Group struct {
	ID          string
	Name        string
	Description string
	Default     bool
	Visible     bool
	Mandatory   []string
	Defaults    []string
	Optional    []string
}

// Comps writes groups as a comps.xml document, the "group" metadata of a
// repository.
func Comps(groups []Group) []byte {
	var w writer
	w.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	w.WriteString("<!DOCTYPE comps PUBLIC \"-//CentOS//DTD Comps info//EN\" \"comps.dtd\">\n<comps>\n")
	for _, g := range groups {
		w.WriteString("  <group>\n")
		w.text("    ", "id", g.ID)
		w.text("    ", "name", g.Name)
		w.text("    ", "description", g.Description)
		w.text("    ", "default", strconv.FormatBool(g.Default))
		w.text("    ", "uservisible", strconv.FormatBool(g.Visible))
		w.WriteString("    <packagelist>\n")
		for _, l := range []struct {
			typ  string
			pkgs []string
		}{{"mandatory", g.Mandatory}, {"default", g.Defaults}, {"optional", g.Optional}} {
			for _, p := range l.pkgs {
				w.WriteString("      <packagereq")
				w.attr("type", l.typ)
				w.WriteString(">")
				textEscaper.WriteString(&w, clean(p))
				w.WriteString("</packagereq>\n")
			}
		}
		w.WriteString("    </packagelist>\n  </group>\n")
	}
	w.WriteString("</comps>\n")
	return []byte(w.String())
}
