package plugins

import (
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/quarrylinux/quarry/core/safetext"
)

// relevel is a plugin's logger on the host: named after the SIG, never
// louder than warn, so that a plugin cannot make its log lines look like
// the core's errors (its failures reach the user as errors from the
// host), and with its text made safe for a terminal.
type relevel struct{ hclog.Logger }

func (r relevel) Log(level hclog.Level, msg string, args ...any) {
	if level > hclog.Warn {
		level = hclog.Warn
	}
	msg, args = safe(msg, args)
	r.Logger.Log(level, msg, args...)
}
func (r relevel) Trace(msg string, args ...any) { r.Log(hclog.Trace, msg, args...) }
func (r relevel) Debug(msg string, args ...any) { r.Log(hclog.Debug, msg, args...) }
func (r relevel) Info(msg string, args ...any)  { r.Log(hclog.Info, msg, args...) }
func (r relevel) Warn(msg string, args ...any)  { r.Log(hclog.Warn, msg, args...) }
func (r relevel) Error(msg string, args ...any) { r.Log(hclog.Warn, msg, args...) }

// safe escapes the control characters of a plugin's log message and of
// every value: strings, and anything else (go-plugin passes a plugin's
// lists and maps on as they came) as the text it prints as.
func safe(msg string, args []any) (string, []any) {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			a = safetext.Terminal(v)
		case bool, int, int64, float64, nil:
		default:
			a = safetext.Terminal(fmt.Sprint(v))
		}
		out[i] = a
	}
	return safetext.Terminal(msg), out
}

// Named keeps the SIG's name: go-plugin would add the binary's.
func (r relevel) Named(string) hclog.Logger      { return r }
func (r relevel) ResetNamed(string) hclog.Logger { return r }
func (r relevel) With(args ...any) hclog.Logger  { return relevel{r.Logger.With(args...)} }
