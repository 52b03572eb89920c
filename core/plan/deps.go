package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cavaliergopher/rpm"
)

// rpm's dependency sense flags.
const (
	senseLess    = 1 << 1
	senseGreater = 1 << 2
	senseEqual   = 1 << 3
)

// Dep is one dependency or provide: a name, optionally a comparison with
// an [epoch:]version[-release], or a rich dependency "(a or b)".
type Dep struct {
	Name string `json:"name"`
	Op   string `json:"op,omitempty"` // <, <=, =, >=, >
	EVR  string `json:"evr,omitempty"`
}

func (d Dep) String() string {
	if d.Op == "" {
		return d.Name
	}
	return d.Name + " " + d.Op + " " + d.EVR
}

// DepFromRPM is a dependency as an rpm header stores it: a name, its sense
// flags and a version (kept only with a comparison).
func DepFromRPM(name string, flags int, evr string) Dep {
	d := Dep{Name: name}
	if evr == "" {
		return d
	}
	switch flags & (senseLess | senseGreater | senseEqual) {
	case senseLess:
		d.Op = "<"
	case senseLess | senseEqual:
		d.Op = "<="
	case senseEqual:
		d.Op = "="
	case senseGreater | senseEqual:
		d.Op = ">="
	case senseGreater:
		d.Op = ">"
	default:
		return d
	}
	d.EVR = evr
	return d
}

// Provider answers which provides carry a name.
type Provider interface {
	Provides(name string) []Dep
}

// Satisfied says whether dependency d is met by what p provides; for a
// rich dependency, whether the boolean expression holds.
func Satisfied(d Dep, p Provider) (bool, error) {
	if strings.HasPrefix(d.Name, "(") {
		e, err := parseRich(d.Name)
		if err != nil {
			return false, fmt.Errorf("rich dependency %s: %w", d.Name, err)
		}
		return e.eval(p), nil
	}
	for _, prov := range p.Provides(d.Name) {
		if overlaps(prov, d) {
			return true, nil
		}
	}
	return false, nil
}

// Names lists the plain dependency names a (possibly rich) dependency
// mentions, for finding who could satisfy it.
func Names(d Dep) []string {
	if !strings.HasPrefix(d.Name, "(") {
		return []string{d.Name}
	}
	e, err := parseRich(d.Name)
	if err != nil {
		return nil
	}
	var out []string
	e.walk(func(d Dep) { out = append(out, d.Name) })
	return out
}

// overlaps says whether a provide's version range meets a requirement's,
// as rpm's rpmdsCompare does: an unversioned side matches anything.
func overlaps(prov, req Dep) bool {
	if prov.Op == "" || req.Op == "" {
		return true
	}
	c := compareEVR(prov.EVR, req.EVR, !strings.Contains(req.EVR, "-"))
	switch {
	case c < 0:
		return strings.Contains(prov.Op, ">") || strings.Contains(req.Op, "<")
	case c > 0:
		return strings.Contains(prov.Op, "<") || strings.Contains(req.Op, ">")
	default:
		return (strings.Contains(prov.Op, "=") && strings.Contains(req.Op, "=")) ||
			(strings.Contains(prov.Op, "<") && strings.Contains(req.Op, "<")) ||
			(strings.Contains(prov.Op, ">") && strings.Contains(req.Op, ">"))
	}
}

// compareEVR compares [epoch:]version[-release]; without a release on the
// required side, releases are not compared (rpm's rule).
func compareEVR(a, b string, ignoreRelease bool) int {
	ae, av, ar := splitEVR(a)
	be, bv, br := splitEVR(b)
	if ae != be {
		if ae < be {
			return -1
		}
		return 1
	}
	if c := rpm.CompareVersions(av, bv); c != 0 || ignoreRelease {
		return c
	}
	return rpm.CompareVersions(ar, br)
}

func splitEVR(s string) (int, string, string) {
	epoch := 0
	if e, rest, ok := strings.Cut(s, ":"); ok {
		epoch, _ = strconv.Atoi(e)
		s = rest
	}
	v, r, _ := strings.Cut(s, "-")
	return epoch, v, r
}
