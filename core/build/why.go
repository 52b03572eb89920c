package build

import (
	"fmt"
	"strings"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/toolchain"
)

// Explain says, for every job of the plan, whether a build now would run it
// and why, without building anything: it replays the run over the cache.
func Explain(p *plan.Plan, envs map[string]toolchain.Env, envErrs map[string]error, cache *Cache) map[string]string {
	why := map[string]string{}
	res := &Result{Records: map[string]*Record{}}
	b := &Builder{Plan: p, Envs: envs}
	for _, j := range p.Jobs { // needs come first
		if pr := p.Blocked[j.ID]; pr != nil {
			why[j.ID] = "cannot build: " + pr.Reason
			continue
		}
		if err := envErrs[j.Arch]; err != nil {
			why[j.ID] = "cannot build: " + err.Error()
			continue
		}
		var rebuilt []string
		for _, n := range j.Needs {
			if res.Records[n] == nil {
				rebuilt = append(rebuilt, n)
			}
		}
		if len(rebuilt) > 0 {
			why[j.ID] = "will run: its buildroot changes, since " + strings.Join(rebuilt, ", ") + " will run first"
			continue
		}
		job, err := b.job(j, res)
		if err != nil {
			why[j.ID] = "cannot build: " + err.Error()
			continue
		}
		key := job.Key()
		if rec, ok := cache.Get(key); ok {
			res.Records[j.ID] = rec
			why[j.ID] = fmt.Sprintf("cached: built %s with the same inputs (key %.12s)", rec.End.Format("2006-01-02 15:04"), key)
			continue
		}
		prev, ok := cache.Latest(j.ID)
		if !ok {
			why[j.ID] = "will run: never built"
			continue
		}
		why[j.ID] = "will run: " + diff(&prev.Job, job)
	}
	return why
}

// diff names what changed between the last build's job and this one.
func diff(old, cur *Job) string {
	var changes []string
	if old.SRPM.SHA256 != cur.SRPM.SHA256 {
		changes = append(changes, fmt.Sprintf("the SRPM changed (%s → %s)", old.SRPM.Name, cur.SRPM.Name))
	}
	if old.Env.Toolchain != cur.Env.Toolchain {
		changes = append(changes, fmt.Sprintf("the toolchain changed (%s → %s)", old.Env.Toolchain, cur.Env.Toolchain))
	}
	if old.Env.Buildroot != cur.Env.Buildroot {
		changes = append(changes, fmt.Sprintf("the buildroot image changed (%s → %s)", short(old.Env.Buildroot), short(cur.Env.Buildroot)))
	}
	if old.Env.Macros != cur.Env.Macros || old.Env.RPMRC != cur.Env.RPMRC {
		changes = append(changes, "the rpm macros changed")
	}
	was := map[string]string{}
	for _, in := range old.Buildroot {
		was[in.Name] = in.SHA256
	}
	for _, in := range cur.Buildroot {
		switch d, ok := was[in.Name]; {
		case !ok:
			changes = append(changes, "the buildroot gained "+in.Name)
		case d != in.SHA256:
			changes = append(changes, "the buildroot's "+in.Name+" was rebuilt")
		}
		delete(was, in.Name)
	}
	for name := range was {
		changes = append(changes, "the buildroot lost "+name)
	}
	if len(changes) == 0 {
		return "its last output is gone from the store"
	}
	return strings.Join(changes, "; ")
}

// short is a digest's first hex digits, or "none" (the cross mode's).
func short(digest string) string {
	if digest == "" {
		return "none"
	}
	h, _ := strings.CutPrefix(digest, "sha256:")
	return "sha256:" + h[:min(12, len(h))]
}
