package plugins

import (
	"github.com/hashicorp/go-hclog"
)

// relevel is a plugin's logger on the host: named after the SIG, and never
// louder than warn, so that a plugin cannot make its log lines look like
// the core's errors; its failures reach the user as errors from the host.
type relevel struct{ hclog.Logger }

func (r relevel) Log(level hclog.Level, msg string, args ...any) {
	if level > hclog.Warn {
		level = hclog.Warn
	}
	r.Logger.Log(level, msg, args...)
}
func (r relevel) Error(msg string, args ...any) { r.Logger.Warn(msg, args...) }

// Named keeps the SIG's name: go-plugin would add the binary's.
func (r relevel) Named(string) hclog.Logger      { return r }
func (r relevel) ResetNamed(string) hclog.Logger { return r }
func (r relevel) With(args ...any) hclog.Logger  { return relevel{r.Logger.With(args...)} }
