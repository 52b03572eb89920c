package engine

import (
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Server is an embedded JetStream server: in this process, no port open,
// reached only through in-process connections.
type Server struct {
	srv  *server.Server
	conn *nats.Conn
}

// Embedded starts a JetStream server storing under dir (a folder of the
// state, kept across runs: that is what lets a restarted coordinator
// find its jobs).
func Embedded(dir string, log hclog.Logger) (*Server, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded jetstream: %w", err)
	}
	opts := &server.Options{
		ServerName: "quarry-embedded",
		JetStream:  true,
		StoreDir:   dir,
		// No port: only this process reaches it (nats.InProcessServer).
		DontListen: true,
		// Every write is fsynced before it is acknowledged: by default
		// NATS syncs every two minutes, and a power loss would forget
		// jobs and results it had already confirmed.
		SyncAlways: true,
		NoSigs:     true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded jetstream: %w", err)
	}
	srv.SetLoggerV2(&serverLog{log.Named("nats")}, false, false, false)
	go srv.Start()
	// ReadyForConnections waits for the server's own ready signal (it
	// polls its listeners internally); the bound is only against a
	// server that never comes up.
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded jetstream in %s: not ready after 30s", dir)
	}
	s := &Server{srv: srv}
	if s.conn, err = s.Dial(); err != nil {
		srv.Shutdown()
		return nil, err
	}
	return s, nil
}

// Conn is the server's shared connection.
func (s *Server) Conn() *nats.Conn { return s.conn }

// JetStream is JetStream over the shared connection.
func (s *Server) JetStream() (jetstream.JetStream, error) { return jetstream.New(s.conn) }

// Dial opens another in-process connection (a worker of its own, say,
// whose connection can close on its own).
func (s *Server) Dial(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.Name("quarry"), nats.InProcessServer(s.srv)}, opts...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded jetstream: connect: %w", err)
	}
	return nc, nil
}

// Close closes the shared connection and shuts the server down, its
// store flushed.
func (s *Server) Close() {
	s.conn.Close()
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

// Connect connects to a JetStream cluster at url (comma-separated
// server URLs), reconnecting for as long as the process runs: a
// coordinator or a worker outlives a server's restart.
func Connect(url string, log hclog.Logger, opts ...nats.Option) (*nats.Conn, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	opts = append([]nats.Option{
		nats.Name("quarry"),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted()) }),
	}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", url, err)
	}
	return nc, nil
}

// serverLog is the server's logger, over hclog.
type serverLog struct{ l hclog.Logger }

func (s *serverLog) Noticef(f string, v ...any) { s.l.Info(fmt.Sprintf(f, v...)) }
func (s *serverLog) Warnf(f string, v ...any)   { s.l.Warn(fmt.Sprintf(f, v...)) }
func (s *serverLog) Fatalf(f string, v ...any)  { s.l.Error(fmt.Sprintf(f, v...)) }
func (s *serverLog) Errorf(f string, v ...any)  { s.l.Error(fmt.Sprintf(f, v...)) }
func (s *serverLog) Debugf(f string, v ...any)  { s.l.Debug(fmt.Sprintf(f, v...)) }
func (s *serverLog) Tracef(f string, v ...any)  { s.l.Trace(fmt.Sprintf(f, v...)) }
