package policy

import (
	"testing"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/readback"
)

// TestAttackSIGShipsItsOwnReleasePackage: only the core-built
// <distro>-release-<sig> may ship the SIG's .repo file and key. The
// exemption is granted by the RPM's name, which the SIG's own spec
// chooses: a SIG subpackage named pebble-release-hpc (Epoch 1, so dnf
// upgrades to it from the SIG's repository) ships a .repo file of the
// SIG's writing (any repository, gpgcheck=0, another baseurl for the
// core's ids) and passes both gates.
func TestAttackSIGShipsItsOwnReleasePackage(t *testing.T) {
	g := &Gate{SIG: "hpc", Distro: "pebble", Core: Core{Names: map[string]bool{"banner": true, "pebble-release": true}}}
	bins := []plan.Binary{
		{Name: "hpc-tools", Arch: "noarch", EVR: "1.0-1.pbl9"},
		{Name: "pebble-release-hpc", Arch: "noarch", EVR: "1:99-1.pbl9"},
	}
	if vs := g.Binaries("hpc-tools", bins, ""); len(vs) == 0 {
		t.Errorf("a SIG spec declaring a subpackage named pebble-release-hpc, the core's release package for the SIG, passed the declared gate")
	}
	own := &readback.RPM{File: "pebble-release-hpc-99-1.pbl9.noarch.rpm", Job: "hpc-tools/noarch", Package: "hpc-tools",
		Name: "pebble-release-hpc", EVR: "1:99-1.pbl9", Arch: "noarch", Version: "99", Release: "1.pbl9",
		Files: []readback.File{file("/etc/yum.repos.d/pebble-sig-hpc.repo"), file("/etc/pki/rpm-gpg/RPM-GPG-KEY-pebble-sig-hpc")}}
	if vs := g.Built([]*readback.RPM{own}, builtCtx()); len(vs) == 0 {
		t.Errorf("an RPM the SIG's job hpc-tools/noarch built, named pebble-release-hpc, ships /etc/yum.repos.d/pebble-sig-hpc.repo and the key, and passed the built gate")
	}
}
