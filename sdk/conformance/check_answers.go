package conformance

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func init() {
	register(Check{
		Name:  "answers",
		Why:   "once configured, every call the plugin declares answers within the host's call timeout; a binary answers inside the sandbox (no network, a read-only file system but its scratch folder)",
		Needs: []string{"configure-example"},
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			cctx, cancel := context.WithTimeout(ctx, e.Target.Timeout())
			defer cancel()
			if _, err := Collect(cctx, s); err != nil {
				return WithFix(err, answerFix(e, err))
			}
			return nil
		},
	})
}

// answerFix is what most likely fixes a call that did not answer.
func answerFix(e *Env, err error) string {
	msg := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded || strings.Contains(msg, "deadline"):
		return "pass the ctx each call receives to whatever may block, and return when ctx.Done() is closed"
	case status.Code(err) == codes.Unavailable || strings.Contains(msg, "exited") || strings.Contains(msg, "eof"):
		return "the plugin process ended during the call (a panic? its stderr says): a call returns an error instead"
	case e.Target.process():
		return "a plugin has no network and writes only in its scratch folder (os.TempDir()): ship sources with sdk.FilesFrom(embed.FS) or name a commit with sdk.Git, which the host fetches"
	}
	return ""
}
