package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Actions are what the console does when a request carries its token:
// start a build, roll the publication back. They are off unless the
// server has both Actions and a Token.
type Actions interface {
	// Build starts a build of packages (none: everything) and returns
	// once its run is recorded.
	Build(ctx context.Context, packages []string) (Started, error)
	// Rollback makes the compose before the current one current, and
	// returns when it is done.
	Rollback(ctx context.Context) (Started, error)
}

// Started is an action under way (or, Done, over): the run it is
// recorded as.
type Started struct {
	Action string `json:"action"`
	Run    int64  `json:"run,omitempty"`
	URL    string `json:"url,omitempty"` // the run's page
	Done   bool   `json:"done"`
	// Output is where the action's own output is kept, on the server.
	Output string `json:"output,omitempty"`
}

// ErrBusy is returned by an action refused because another run holds the
// state.
var ErrBusy = errors.New("another run is in progress")

// ActionError is an action that could not start or failed, with what its
// process said.
type ActionError struct {
	Action string
	Output string // the end of its stderr
	Err    error
}

func (e *ActionError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Action, e.Err)
	if e.Output != "" {
		msg += "\n" + e.Output
	}
	return msg
}

func (e *ActionError) Unwrap() error { return e.Err }

// packageName is what a package name may be: rpm's own characters, and
// never a leading "-" that a command line would read as a flag.
var packageName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}$`)

// actionsOn says whether the console acts: both an implementation and a
// token are configured.
func (s *Server) actionsOn() bool { return s.Actions != nil && s.Token != "" }

// authorize checks an action's request: its bearer token (compared in
// constant time), and, when a browser says where it comes from, that it
// comes from the console itself. The token travels in a header, never
// in a cookie, so another site's page cannot send it.
func (s *Server) authorize(r *http.Request) *httpError {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	got, want := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(s.Token))
	if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return &httpError{http.StatusUnauthorized, "this action needs the console's token (Authorization: Bearer TOKEN)"}
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return &httpError{http.StatusForbidden, fmt.Sprintf("an action from %q, not from the console", o)}
		}
	}
	return nil
}

// BuildRequest is the body of POST /api/v1/actions/build.
type BuildRequest struct {
	Packages []string `json:"packages,omitempty"`
}

func (s *Server) buildAction(r *http.Request) (Started, error) {
	var req BuildRequest
	if r.ContentLength != 0 {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
			return Started{}, &httpError{http.StatusUnsupportedMediaType, "the body is JSON: Content-Type: application/json"}
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return Started{}, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)}
			}
			return Started{}, &httpError{http.StatusBadRequest, fmt.Sprintf("the body: %v", err)}
		}
	}
	if len(req.Packages) > 1000 {
		return Started{}, &httpError{http.StatusBadRequest, "at most 1000 packages"}
	}
	for _, p := range req.Packages {
		if !packageName.MatchString(p) {
			return Started{}, &httpError{http.StatusBadRequest, fmt.Sprintf("%q is not a package name", p)}
		}
	}
	return s.Actions.Build(r.Context(), req.Packages)
}

func (s *Server) rollbackAction(r *http.Request) (Started, error) {
	return s.Actions.Rollback(r.Context())
}

// actionsOff answers every action when the console has no token.
func actionsOff(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusForbidden, map[string]string{"error": "this console is read-only: its actions are off (quarry serve --token-file FILE turns them on)"})
}

// ActionsView is GET /api/v1/actions: whether the console acts, and how.
type ActionsView struct {
	Enabled bool     `json:"enabled"`
	Actions []string `json:"actions"`
}

func (s *Server) actionsView(w http.ResponseWriter, r *http.Request) {
	v := ActionsView{Enabled: s.actionsOn(), Actions: []string{}}
	if v.Enabled {
		v.Actions = []string{"POST /api/v1/actions/build", "POST /api/v1/actions/rollback"}
	}
	writeJSON(w, http.StatusOK, v)
}

// act serves one action: authorized, one at a time, never while another
// run holds the state.
func (s *Server) act(do func(*http.Request) (Started, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fail := func(code int, err error) {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="quarry"`)
			}
			writeJSON(w, code, map[string]string{"error": err.Error()})
		}
		if he := s.authorize(r); he != nil {
			s.Log.Warn("console action refused", "path", r.URL.Path, "remote", r.RemoteAddr, "why", he.msg)
			fail(he.code, he)
			return
		}
		if !s.acting.TryLock() {
			fail(http.StatusConflict, fmt.Errorf("%w: the console is starting one", ErrBusy))
			return
		}
		defer s.acting.Unlock()
		if db := s.hist(); db != nil {
			if cur, ok, err := db.Current(); err == nil && ok {
				fail(http.StatusConflict, fmt.Errorf("%w: run %d (%s)", ErrBusy, cur.ID, cur.Command))
				return
			}
		}
		s.Log.Info("console action", "path", r.URL.Path, "remote", r.RemoteAddr)
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		st, err := do(r)
		if err != nil {
			var he *httpError
			switch {
			case errors.As(err, &he):
				fail(he.code, he)
			case errors.Is(err, ErrBusy):
				fail(http.StatusConflict, err)
			default:
				s.Log.Error("console action", "path", r.URL.Path, "error", err)
				fail(http.StatusInternalServerError, err)
			}
			return
		}
		if st.Run > 0 {
			st.URL = fmt.Sprintf("/runs/%d", st.Run)
		}
		code := http.StatusAccepted
		if st.Done {
			code = http.StatusOK
		}
		writeJSON(w, code, st)
	}
}
