package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/conformance"
)

func pluginCheckCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "run the conformance suite on SIG plugin binaries",
		ArgsUsage: "PATH...",
		Description: `Runs every conformance check on each plugin binary (quarry-sig-<name>) and
reports pass or fail per check, with why it matters. The SIG's example config
is its block in quarry.yaml (--config) when it has one, or --sig-config.
--quick runs the protocol and static checks only (seconds); the default adds
determinism, the sandbox, timeouts and building its packages. Exits 1 if any
check fails.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quick", Usage: "protocol and static checks only"},
			&cli.StringFlag{Name: "sig-config", Usage: "the SIG's example config block, a YAML `FILE`"},
			&cli.StringFlag{Name: "junit", Usage: "also write a JUnit XML report to `FILE`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.Exit("quarry: plugin check PATH...", 2)
			}
			level := conformance.Full
			if c.Bool("quick") {
				level = conformance.Quick
			}
			cfg, _ := config.Load(c.String("config")) // optional: only for example configs
			var suites []junitSuite
			failed := 0
			for _, path := range c.Args().Slice() {
				target, err := conformance.Binary(path, nil)
				if err != nil {
					return cli.Exit("quarry: "+err.Error(), 2)
				}
				if target.Config, err = exampleConfig(c, cfg, target.SIG); err != nil {
					return err
				}
				start := time.Now()
				results := conformance.Check(c.Context, target, level)
				suites = append(suites, junit(target.SIG, results, time.Since(start)))
				for _, r := range results {
					if r.Status == conformance.Fail {
						failed++
					}
					if c.Bool("json") {
						json.NewEncoder(os.Stdout).Encode(map[string]any{"plugin": path, "sig": target.SIG, "check": r.Check, "status": r.Status, "why": r.Why, "message": r.Message, "duration_ns": r.Duration})
						continue
					}
					line := fmt.Sprintf("%-5s %-10s %-18s %s", r.Status, target.SIG, r.Check, r.Why)
					if r.Message != "" {
						line += "\n      " + r.Message
					}
					fmt.Println(line)
				}
				if !c.Bool("json") {
					fmt.Printf("%s: %d checks in %s\n", path, len(results), time.Since(start).Round(time.Millisecond))
				}
			}
			if f := c.String("junit"); f != "" {
				data, err := xml.MarshalIndent(junitSuites{Suites: suites}, "", "  ")
				if err != nil {
					return err
				}
				if err := store.WriteFile(f, append([]byte(xml.Header), append(data, '\n')...), 0o644); err != nil {
					return err
				}
			}
			if failed > 0 {
				return cli.Exit(fmt.Sprintf("quarry: %d conformance checks failed", failed), 1)
			}
			return nil
		},
	}
}

// exampleConfig is the SIG's config block: --sig-config, or its entry in
// quarry.yaml.
func exampleConfig(c *cli.Context, cfg *config.Config, sig string) ([]byte, error) {
	if f := c.String("sig-config"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("--sig-config %s: %w", f, err)
		}
		return json.Marshal(v)
	}
	if cfg != nil {
		for _, g := range cfg.SIGs {
			if g.Name == sig {
				return g.ConfigJSON()
			}
		}
	}
	return nil, nil
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitFailure `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func junit(sig string, results []conformance.Result, took time.Duration) junitSuite {
	s := junitSuite{Name: "quarry-sig-" + sig, Tests: len(results), Time: took.Seconds()}
	for _, r := range results {
		tc := junitCase{Name: r.Check, ClassName: "conformance." + sig, Time: r.Duration.Seconds()}
		switch r.Status {
		case conformance.Fail:
			s.Failures++
			tc.Failure = &junitFailure{Message: r.Message, Text: r.Why}
		case conformance.Skip:
			s.Skipped++
			tc.Skipped = &junitFailure{Message: r.Message}
		}
		s.Cases = append(s.Cases, tc)
	}
	return s
}
