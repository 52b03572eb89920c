package intake

import (
	"context"
	"strings"
	"testing"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/quarrylinux/quarry/plugins"
)

// TestInstallersRunLockedPluginsOnly: installers are built for a
// publication, so a SIG with a dev override or a plugin in debug mode is
// refused before anything is launched.
func TestInstallersRunLockedPluginsOnly(t *testing.T) {
	s := &Source{Host: &plugins.Host{Dev: map[string]string{"cloud": "/nonexistent/quarry-sig-cloud"},
		Reattach: map[string]*goplugin.ReattachConfig{"media": {Pid: 42}}}}
	for sig, want := range map[string]string{"cloud": "sig cloud would run the dev override /nonexistent/quarry-sig-cloud", "media": "sig media would run a plugin in debug mode (pid 42"} {
		if _, err := s.Installers(context.Background(), sig, t.TempDir()); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "locked plugins only") {
			t.Errorf("%s: %v", sig, err)
		}
	}
}
