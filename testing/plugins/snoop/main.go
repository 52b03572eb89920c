// Command snoop tries what a hostile plugin would, inside its sandbox:
// read the host's secrets, start as many processes as it can, and fill
// its scratch folder. Repos reports what it managed, for the host's test.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct {
	cfg struct {
		Secret string `json:"secret"`
		Procs  int    `json:"procs"`
	}
}

func (p *p) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "misbehaves: snoops on the host"}
}
func (p *p) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&p.cfg)
}

func (p *p) Repos(ctx context.Context) ([]sdk.Repo, error) {
	read := func(path string) string {
		if _, err := os.ReadFile(path); err != nil {
			if errors.Is(err, os.ErrPermission) {
				return "denied"
			}
			return "absent"
		}
		return "READ"
	}
	var kids []*exec.Cmd
	for len(kids) < p.cfg.Procs {
		c := exec.Command("/usr/bin/sleep", "60")
		if c.Start() != nil {
			break
		}
		kids = append(kids, c)
	}
	for _, c := range kids {
		c.Process.Kill()
		c.Wait()
	}
	written, diskErr := fill("/build/fill")
	return []sdk.Repo{{ID: "observed", Name: fmt.Sprintf("shadow=%s secret=%s procs=%d disk=%d:%v",
		read("/etc/shadow"), read(p.cfg.Secret), len(kids), written, errors.Is(diskErr, syscall.ENOSPC))}}, nil
}

// fill writes until the file system says no.
func fill(path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for n < 8<<30 {
		k, err := f.Write(buf)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func main() { sdk.Serve("snoop", func() sdk.Plugin { return &p{} }) }
