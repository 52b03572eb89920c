// Package console is Quarry's web console, quarry serve: the run history
// (live progress of the current run), a run's jobs by package and arch, a
// job's log (streaming while it runs), its inputs and provenance, the
// composes and what each holds, the SIGs, and the verification state of
// the current publication. Every page has a JSON twin under /api/v1/.
//
// It is read-only unless it is given a token: then a request carrying
// the token may start a build or roll back, each run as a quarry command
// of its own (Commands), recorded in the history like any other. The
// console's process itself never writes to the state or the published
// tree, and never reaches a key.
// Everything it shows that came from outside the core (logs, spec and
// SIG text) goes through html/template's escaping, and the pages' scripts
// come from the console itself only (Content-Security-Policy), so a log
// line holding <script> is text.
package console

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/hashicorp/go-hclog"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/history"
	"github.com/quarrylinux/quarry/core/layout"
	"github.com/quarrylinux/quarry/core/store"
)

//go:embed web
var web embed.FS

// Server serves the console of one distribution's state and published
// tree.
type Server struct {
	Distro  string // its pretty name, for titles
	Layout  layout.Layout
	Store   *store.Store
	History *history.DB // opened read-only
	// OpenHistory, when History is nil, is tried again on each request
	// (no run was recorded yet when the console started).
	OpenHistory func() (*history.DB, error)
	// Trust is the core's public key: the publication is verified against it.
	Trust openpgp.EntityList
	// Arches are the distribution's, in the order the grid shows them.
	Arches []string
	// SIGs are the configured SIGs' names.
	SIGs []string
	Log  hclog.Logger
	// Poll is how often live views look for changes (default 250 ms).
	Poll time.Duration

	// Actions, with Token, let requests that carry the token start a
	// build or roll back; without both the console only reads.
	Actions Actions
	Token   string

	once   sync.Once
	acting sync.Mutex // one action at a time
	tmpl   *template.Template
	mu     sync.Mutex
	verif  map[string]*verification // by compose id
}

// Handler is the console's HTTP handler.
func (s *Server) Handler() http.Handler {
	s.once.Do(s.init)
	mux := http.NewServeMux()
	page := func(pattern string, h func(*http.Request) (string, any, error)) {
		mux.HandleFunc("GET "+pattern, s.serve(h, false))
		mux.HandleFunc("GET /api/v1"+pattern, s.serve(h, true))
	}
	page("/{$}", s.runsPage)
	page("/runs", s.runsPage)
	page("/runs/{run}", s.runPage)
	page("/runs/{run}/jobs/{pkg}/{arch}", s.jobPage)
	page("/runs/{run}/jobs/{pkg}/{arch}/log", s.logPage)
	page("/composes", s.composesPage)
	page("/composes/{id}", s.composePage)
	page("/sigs", s.sigsPage)
	page("/verify", s.verifyPage)
	mux.HandleFunc("GET /api/v1/runs/{run}/events", s.runEvents)
	mux.HandleFunc("GET /api/v1/runs/{run}/jobs/{pkg}/{arch}/log/stream", s.logStream)
	mux.HandleFunc("GET /api/v1/actions", s.actionsView)
	if s.actionsOn() {
		mux.HandleFunc("POST /api/v1/actions/build", s.act(s.buildAction))
		mux.HandleFunc("POST /api/v1/actions/rollback", s.act(s.rollbackAction))
	} else {
		mux.HandleFunc("POST /api/v1/actions/", actionsOff)
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(mustSub(web, "web/static"))))
	return secure(mux)
}

// hist is the run history, nil until the first run is recorded.
func (s *Server) hist() *history.DB {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.History == nil && s.OpenHistory != nil {
		if db, err := s.OpenHistory(); err == nil {
			s.History = db
		}
	}
	return s.History
}

func (s *Server) init() {
	if s.Log == nil {
		s.Log = hclog.NewNullLogger()
	}
	if s.Poll <= 0 {
		s.Poll = 250 * time.Millisecond
	}
	s.verif = map[string]*verification{}
	s.tmpl = template.Must(template.New("").Funcs(funcs).Funcs(template.FuncMap{"actions": s.actionsOn}).ParseFS(web, "web/*.html"))
}

// secure sets the headers every response carries: no script but the
// console's own, no framing, no sniffing of logs into HTML.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// httpError is an error with its status.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &httpError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// serve renders a page's data as HTML (its template) or JSON.
func (s *Server) serve(h func(*http.Request) (string, any, error), asJSON bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, data, err := h(r)
		if err != nil {
			code := http.StatusInternalServerError
			var he *httpError
			if errors.As(err, &he) {
				code = he.code
			} else if errors.Is(err, history.ErrNotFound) {
				code = http.StatusNotFound
			}
			if code == http.StatusInternalServerError {
				s.Log.Error("console", "path", r.URL.Path, "error", err)
			}
			if asJSON {
				writeJSON(w, code, map[string]string{"error": err.Error()})
				return
			}
			w.WriteHeader(code)
			s.render(w, "error", map[string]any{"Title": http.StatusText(code), "Error": err.Error()})
			return
		}
		if asJSON {
			writeJSON(w, http.StatusOK, data)
			return
		}
		s.render(w, name, data)
	}
}

func (s *Server) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.tmpl.ExecuteTemplate(w, name+".html", data); err != nil {
		s.Log.Error("render", "page", name, "error", err)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func runID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("run"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("no run %q", r.PathValue("run"))
	}
	return id, nil
}

var funcs = template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"dur": func(a, b time.Time) string {
		if a.IsZero() {
			return ""
		}
		if b.IsZero() {
			b = time.Now()
		}
		return b.Sub(a).Round(100 * time.Millisecond).String()
	},
	// dict makes a template's argument of key, value pairs.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"finished": func(status string) bool {
		return status == build.Built || status == build.Cached || status == build.Failed || status == build.Skipped
	},
}
