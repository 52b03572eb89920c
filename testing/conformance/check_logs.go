package conformance

import (
	"context"
	"encoding/json"
	"strings"
)

func init() {
	register(check{
		name:   "structured-logs",
		why:    "the plugin logs hclog JSON on stderr, which the host re-levels and names after the SIG",
		binary: true,
		run: func(ctx context.Context, e *env) error {
			s, err := e.configured(ctx)
			if err != nil {
				return err
			}
			collect(ctx, s)
			s.Close()
			e.mu.Lock()
			out := e.stderr.String()
			e.mu.Unlock()
			for _, line := range strings.Split(out, "\n") {
				line = strings.TrimSpace(line)
				if line == "" {
					continue
				}
				var entry map[string]any
				if err := json.Unmarshal([]byte(line), &entry); err != nil || entry["@message"] == nil || entry["@level"] == nil {
					return errorf("stderr line %q is not an hclog JSON entry", cut(line, 120))
				}
			}
			return nil
		},
	})
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
