package readback

import (
	"context"
	"io"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/plan"
)

// Checked runs jobs with another executor and refuses a job whose RPMs
// are not what its spec declared. The job fails there, before it is
// cached and before any job that needs it installs what it wrote.
type Checked struct {
	Exec   build.Executor
	Reader *Reader
	// Declared gives the binaries a package's spec declares for an arch.
	Declared func(pkg, arch string) []plan.Binary
}

// Run implements build.Executor.
func (c *Checked) Run(ctx context.Context, job *build.Job, log io.Writer) (*build.Record, error) {
	rec, err := c.Exec.Run(ctx, job, log)
	if err != nil {
		return nil, err
	}
	rpms, err := c.Reader.Job(rec)
	if err != nil {
		return nil, &build.Error{Job: job.ID, Msg: err.Error()}
	}
	if err := Declared(job.ID, job.Package, c.Declared(job.Package, job.Arch), rpms).Err(); err != nil {
		return nil, err
	}
	return rec, nil
}

// PlanDeclared answers Checked.Declared from a plan's packages.
func PlanDeclared(p *plan.Plan) func(pkg, arch string) []plan.Binary {
	srcs := map[string]*plan.Source{}
	for _, pk := range p.Packages {
		srcs[pk.Name] = pk.Source
	}
	return func(pkg, arch string) []plan.Binary {
		if s := srcs[pkg]; s != nil {
			return s.Binaries[arch]
		}
		return nil
	}
}
