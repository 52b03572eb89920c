package plugins

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// A plugin's log line reaches the host's stderr with its escapes made
// visible, whatever shape its values have.
func TestPluginLogsAreEscaped(t *testing.T) {
	var out bytes.Buffer
	l := relevel{hclog.New(&hclog.LoggerOptions{Output: &out, Level: hclog.Trace})}
	esc := "\x1b]0;owned\x07"
	l.Error("msg "+esc, "k", esc, "list", []any{esc}, "map", map[string]any{"x": esc}, "n", 3)
	if strings.ContainsAny(out.String(), "\x1b\x07") {
		t.Errorf("raw escapes reached the log: %q", out.String())
	}
	if !strings.Contains(out.String(), "[WARN]") || !strings.Contains(out.String(), "n=3") {
		t.Errorf("level or value lost: %q", out.String())
	}
}
