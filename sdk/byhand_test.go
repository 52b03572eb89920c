package sdk

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

type handPlugin struct{}

func (handPlugin) Info() Info                                              { return Info{Version: "2.3.4", Description: "by hand"} }
func (handPlugin) Configure(context.Context, ConfigureRequest) Diagnostics { return nil }

// TestByHand: a plugin binary run by a person answers --version and
// --help, and otherwise says what it is and how quarry runs it, exit 2.
func TestByHand(t *testing.T) {
	factory := func() Plugin { return handPlugin{} }
	for _, c := range []struct {
		args        []string
		code        int
		out, stderr string
	}{
		{[]string{"--version"}, 0, "quarry-sig-hand 2.3.4 (SIG hand; Quarry SDK " + Version + "; protocol [1])\n", ""},
		{[]string{"--help"}, 0, "quarry-sig-hand is a Quarry SIG plugin (SIG hand)", ""},
		{nil, 2, "", "quarry-sig-hand is a Quarry SIG plugin (SIG hand): quarry runs it, sandboxed,"},
		{[]string{"serve", "now"}, 2, "", "quarry plugin dev hand PATH"},
	} {
		var stdout, stderr bytes.Buffer
		code := byHand("hand", factory, serveOptions{}, c.args, &stdout, &stderr)
		if code != c.code || !strings.HasPrefix(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.stderr) || (c.out == "" && stdout.Len() > 0) {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q", c.args, code, stdout.String(), stderr.String())
		}
	}
}
