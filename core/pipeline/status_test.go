package pipeline

import (
	"testing"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/history"
)

// core/history spells the job statuses of core/build itself, to stay a
// leaf; the pipeline records one as the other, so they must agree.
func TestHistorySpellsTheBuildStatuses(t *testing.T) {
	for _, s := range [][2]string{
		{history.Queued, build.Queued}, {history.Running, build.Running}, {history.Built, build.Built},
		{history.Cached, build.Cached}, {history.Failed, build.Failed}, {history.Skipped, build.Skipped},
	} {
		if s[0] != s[1] {
			t.Errorf("history says %q where build says %q", s[0], s[1])
		}
	}
}
