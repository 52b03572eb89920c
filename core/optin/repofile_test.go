package optin

import "testing"

// TestSetEnabled: only enabled= lines of the sections asked for change;
// a section without one gets one, before its blank lines; CRLF files
// stay CRLF; a header with a comment is a header.
func TestSetEnabled(t *testing.T) {
	for _, c := range []struct {
		in   string
		ids  map[string]bool
		on   bool
		want string
		n    int
	}{
		{"[a]\nname=A\nenabled=1\n\n[b]\nenabled=1\n", nil, false, "[a]\nname=A\nenabled=0\n\n[b]\nenabled=0\n", 2},
		{"[a]\nenabled=1\n\n[b] # the second\nenabled = 1\n", map[string]bool{"b": true}, false, "[a]\nenabled=1\n\n[b] # the second\nenabled=0\n", 1},
		{"[a]\nname=A\n\n[b]\nname=B", nil, false, "[a]\nname=A\nenabled=0\n\n[b]\nname=B\nenabled=0\n", 2},
		{"[a]\r\nenabled=0\r\nname=A\r\n", nil, true, "[a]\r\nenabled=1\r\nname=A\r\n", 1},
		{"# nothing here\n", nil, true, "# nothing here\n", 0},
		{"[a]\nenabled=1\n", map[string]bool{"z": true}, false, "[a]\nenabled=1\n", 0},
	} {
		got, n := setEnabled([]byte(c.in), c.ids, c.on)
		if string(got) != c.want || n != c.n {
			t.Errorf("setEnabled(%q, %v, %v) = %q, %d\nwant %q, %d", c.in, c.ids, c.on, got, n, c.want, c.n)
		}
	}
}
