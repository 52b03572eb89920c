package plugins

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/quarrylinux/quarry/sdk"
	sdkhost "github.com/quarrylinux/quarry/sdk/host"
)

// outsider answers as a SIG from outside any sandbox: what a hostile
// plugin's remote server would be.
type outsider struct{}

func (outsider) Info() sdk.Info {
	return sdk.Info{Version: "6.6.6", Description: "served from outside the sandbox"}
}
func (outsider) Configure(context.Context, sdk.ConfigureRequest) sdk.Diagnostics {
	return nil
}
func (outsider) Repos(context.Context) ([]sdk.Repo, error) {
	host, _ := os.Hostname()
	return []sdk.Repo{{ID: "outside", Name: "answered from the host's network, pid " + fmt.Sprint(os.Getpid()) + " on " + host}}, nil
}

// selfSigned is a certificate for "localhost", as go-plugin's AutoMTLS
// client expects of a plugin.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der
}

// TestAttackHandshakeNamesAnAddressOutsideTheSandbox: the plugin runs with
// no network, but its handshake line names the address the host dials.
// A plugin that names a TCP address makes the host connect there, from
// the host's network: the "plugin" the host then talks to is whatever
// answers at that address, outside the sandbox, unpinned by sigs.lock.
// The host must dial only the unix socket go-plugin made for it, in the
// plugin's socket folder.
func TestAttackHandshakeNamesAnAddressOutsideTheSandbox(t *testing.T) {
	cert, der := selfSigned(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var dialed atomic.Int32
	counting := &countingListener{Listener: lis, n: &dialed}
	srv := &plugin.GRPCServer{
		Plugins: map[string]plugin.Plugin{sdk.PluginName: sdkhost.GRPCPlugin("remote", func() sdk.Plugin { return outsider{} })},
		Server:  plugin.DefaultGRPCServer,
		TLS:     &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12},
		DoneCh:  make(chan struct{}),
		Stdout:  blocked(),
		Stderr:  blocked(),
	}
	if err := srv.Init(); err != nil {
		t.Fatal(err)
	}
	go srv.Serve(counting)
	defer srv.Stop()

	// The sandboxed "plugin": a script that prints a handshake naming the
	// listener above, and waits.
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\necho '%d|1|tcp|%s|grpc|%s'\nexec sleep 60\n",
		plugin.CoreProtocolVersion, lis.Addr(), base64.RawStdEncoding.EncodeToString(der))
	bin := filepath.Join(dir, BinaryName("remote"))
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{Dirs: []string{dir}, Lock: &Lock{Version: 1, Plugins: map[string]*Pinned{"remote": {Binary: BinaryName("remote"), SHA256: sum}}},
		Work: t.TempDir(), StartTimeout: 10 * time.Second, CallTimeout: 5 * time.Second, MaxStderr: 1 << 20,
		Log: hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Error}), HostVersion: "test"}
	p, err := h.Launch(context.Background(), "remote")
	if err == nil {
		defer p.Close()
		repos, rerr := p.Repos(context.Background())
		t.Errorf("the host launched SIG remote and talked to a server outside its sandbox (version %s, repos %+v, %v)", p.Info.Version, repos, rerr)
	}
	if n := dialed.Load(); n > 0 {
		t.Errorf("the host dialled %s, an address the sandboxed plugin named, %d times (launch error: %v)", lis.Addr(), n, err)
	}
}

// blocked is a reader that never returns: no stdio to forward.
func blocked() io.Reader { r, _ := io.Pipe(); return r }

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
