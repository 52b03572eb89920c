package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/store"
	sdkconf "github.com/quarrylinux/quarry/sdk/conformance"
	sdkhost "github.com/quarrylinux/quarry/sdk/host"
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
				rep := conformance.Report(c.Context, target, level)
				suites = append(suites, junit(rep))
				for _, r := range rep.Results {
					if r.Status == conformance.Fail || r.Status == conformance.Error {
						failed++
					}
					if c.Bool("json") {
						json.NewEncoder(os.Stdout).Encode(map[string]any{"plugin": path, "sig": target.SIG, "check": r.Check, "status": r.Status, "why": r.Why, "message": r.Message, "fix": r.Fix, "duration_ns": r.Duration})
						continue
					}
					line := fmt.Sprintf("%-5s %-10s %-18s %s", r.Status, target.SIG, r.Check, r.Why)
					if r.Message != "" {
						line += "\n      " + strings.ReplaceAll(r.Message, "\n", "\n      ")
					}
					if r.Status == conformance.Fail && r.Fix != "" {
						line += "\n      fix: " + r.Fix
					}
					fmt.Println(line)
				}
				if !c.Bool("json") {
					fmt.Printf("%s: %d checks in %s\n", path, len(rep.Results), rep.Took.Round(time.Millisecond))
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

// junitSuite is one plugin's run, with the attributes CI reporters read
// (timestamp, errors) and the plugin's versions as properties.
type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       float64         `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Skipped   *junitFailure `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func junit(rep sdkconf.Report) junitSuite {
	sig := rep.SIG
	s := junitSuite{Name: "quarry-sig-" + sig, Tests: len(rep.Results), Time: rep.Took.Seconds(),
		Timestamp: rep.Started.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{{"sig", sig}, {"quarry.version", version},
			{"host.protocol", fmt.Sprint(sdkhost.APIVersions)}}}
	s.Hostname, _ = os.Hostname()
	if p := rep.Plugin; p != nil {
		s.Properties = append(s.Properties, junitProperty{"plugin.version", p.Version}, junitProperty{"plugin.sdk", p.SDKVersion},
			junitProperty{"plugin.protocol", fmt.Sprint(p.APIVersions)})
	}
	for _, r := range rep.Results {
		tc := junitCase{Name: r.Check, ClassName: "conformance." + sig, Time: r.Duration.Seconds()}
		// The body has the whole cause (some reporters show only it):
		// what failed, the fix, and why the check matters.
		body := r.Failure() + "\nwhy: " + r.Why
		switch r.Status {
		case conformance.Fail:
			s.Failures++
			tc.Failure = &junitFailure{Message: firstLine(r.Message), Type: r.Check, Text: body}
		case conformance.Error:
			s.Errors++
			tc.Error = &junitFailure{Message: firstLine(r.Message), Type: "suite", Text: body}
		case conformance.Skip:
			s.Skipped++
			tc.Skipped = &junitFailure{Message: r.Message}
		}
		s.Cases = append(s.Cases, tc)
	}
	return s
}
