package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/pipeline"
)

func workerCommand() *cli.Command {
	return &cli.Command{
		Name:  "worker",
		Usage: "build one arch's jobs of a JetStream engine on this machine, until stopped",
		Description: `Pulls the jobs of --arch (and the noarch jobs that build in its buildroot)
from the engine build.engine names (--engine overrides it: the cluster's
nats:// URLs, comma-separated), fetches each job's inputs by digest and
checks them, builds it exactly as quarry build does here (the same sandbox,
limits and buildroot: build.buildroot's image of --arch, unpacked here),
and sends back its RPMs and log by digest. While a job builds the worker
says so to the engine; a worker that dies has its job given to another
after build.engine.ack_wait. It holds no key: the coordinator (quarry
build) checks what comes back, signs and publishes.

--config is the distribution's quarry.yaml, as the coordinator has it
(for the limits, the buildroot images and the engine); --state is where
this worker keeps its store and work folders.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "arch", Required: true, Usage: "the `ARCH` whose jobs it builds: " + strings.Join(config.KnownArches, ", ")},
			&cli.StringFlag{Name: "engine", Usage: "the engine's `URL`s (default: build.engine of --config)"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "jobs built at once (default: the number of cores)"},
			&cli.StringFlag{Name: "name", Usage: "the worker's `NAME` in the engine's attempts (default: HOST/ARCH)"},
		},
		Action: func(c *cli.Context) error {
			e, err := setup(c)
			if err != nil {
				return err
			}
			if u := c.String("engine"); u != "" {
				if err := config.CheckEngineURL(u); err != nil {
					return cli.Exit(fmt.Sprintf("quarry: worker: --engine: %v", err), exitUsage)
				}
				e.cfg.Build.Engine.URL = u
			}
			p := e.pipeline(nil)
			return p.Worker(c.Context, pipeline.WorkerOptions{Arch: c.String("arch"), Name: c.String("name"), Jobs: c.Int("jobs")})
		},
	}
}
