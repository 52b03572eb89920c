package host

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"

	"github.com/hashicorp/go-plugin"

	"github.com/quarrylinux/quarry/sdk/internal/wire"
)

// ReattachEnv names the environment variable a plugin in debug mode
// (quarry-sig-NAME --debug) tells its user to set: a host then connects
// to that process for the SIG instead of launching its binary.
const ReattachEnv = wire.ReattachEnv

// ParseReattach reads ReattachEnv's value: where each SIG's plugin in
// debug mode serves.
func ParseReattach(value string) (map[string]*plugin.ReattachConfig, error) {
	var raw map[string]wire.Reattach
	if err := json.Unmarshal([]byte(value), &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", ReattachEnv, err)
	}
	sigs := make([]string, 0, len(raw))
	for sig := range raw {
		sigs = append(sigs, sig)
	}
	sort.Strings(sigs)
	out := map[string]*plugin.ReattachConfig{}
	for _, sig := range sigs {
		r := raw[sig]
		var addr net.Addr
		var err error
		switch r.Addr.Network {
		case "unix":
			addr, err = net.ResolveUnixAddr("unix", r.Addr.String)
		case "tcp":
			addr, err = net.ResolveTCPAddr("tcp", r.Addr.String)
		default:
			err = fmt.Errorf("network %q (unix or tcp)", r.Addr.Network)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: sig %s: %w", ReattachEnv, sig, err)
		}
		if r.Protocol != string(plugin.ProtocolGRPC) || r.Pid <= 0 {
			return nil, fmt.Errorf("%s: sig %s: want protocol grpc and a pid, have %q and %d", ReattachEnv, sig, r.Protocol, r.Pid)
		}
		out[sig] = &plugin.ReattachConfig{Protocol: plugin.ProtocolGRPC, ProtocolVersion: r.ProtocolVersion, Pid: r.Pid, Test: true, Addr: addr}
	}
	return out, nil
}
