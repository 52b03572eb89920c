package conformance

import (
	"context"
	"encoding/json"
	"strings"
)

func init() {
	register(Check{
		Name:    "structured-logs",
		Why:     "the plugin logs hclog JSON on stderr, which the host re-levels and names after the SIG",
		Process: true,
		Needs:   []string{"answers"},
		Fix:     "log with sdk.Logger() only: nothing else may write to stderr (log.Printf, fmt.Fprintln(os.Stderr))",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Configured(ctx)
			if err != nil {
				return err
			}
			Collect(ctx, s)
			s.Close()
			out := e.Logs()
			for _, line := range strings.Split(out, "\n") {
				line = strings.TrimSpace(line)
				if line == "" {
					continue
				}
				var entry map[string]any
				if err := json.Unmarshal([]byte(line), &entry); err != nil || entry["@message"] == nil || entry["@level"] == nil {
					return Errorf("stderr line %q is not an hclog JSON entry", cut(line, 120))
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
