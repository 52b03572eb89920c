package console

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/history"
)

// sse is a stream of server-sent events.
type sse struct {
	w http.ResponseWriter
	f http.Flusher
}

func newSSE(w http.ResponseWriter) (*sse, bool) {
	f, ok := w.(http.Flusher)
	if !ok {
		return nil, false
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return &sse{w, f}, true
}

// send writes one event, its data as one JSON line.
func (s *sse) send(event string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, data); err != nil {
		return err
	}
	s.f.Flush()
	return nil
}

// runEvents streams a run's changes as they are recorded: "job" with a
// job whose state changed, "run" with the run when its phase, counts or
// state changed, and "end" once it is over. The history is another
// process's database: it is looked at every Poll.
func (s *Server) runEvents(w http.ResponseWriter, r *http.Request) {
	id, err := runID(r)
	if err != nil || s.hist() == nil {
		http.NotFound(w, r)
		return
	}
	if _, err := s.hist().Run(id); err != nil {
		http.NotFound(w, r)
		return
	}
	out, ok := newSSE(w)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	// The newest job write sent: the page's, or found by the first look.
	since, _ := parseOffset(r.URL.Query().Get("since"))
	known := since > 0
	var last string
	tick := time.NewTicker(s.Poll)
	defer tick.Stop()
	for first := true; ; first = false {
		run, err := s.hist().Run(id)
		if err != nil {
			return
		}
		// Only what was written since the last look (the page has the
		// rest); the first look only finds where the writes are.
		jobs, err := s.hist().Jobs(id, history.Filter{Since: since})
		if err != nil {
			return
		}
		for _, j := range jobs {
			since = max(since, j.Seq)
			if (known || !first) && out.send("job", j) != nil {
				return
			}
		}
		if cur := fmt.Sprint(run.State, run.Phase, run.Counts); cur != last {
			last = cur
			if out.send("run", run) != nil {
				return
			}
		}
		if run.State != "running" {
			out.send("end", run)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// logStream streams a running job's log as it is written ("log" events
// with the new text), then "end" with the job once it finished.
func (s *Server) logStream(w http.ResponseWriter, r *http.Request) {
	run, j, err := s.job(r)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	out, ok := newSSE(w)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	offset, _ := parseOffset(r.URL.Query().Get("from"))
	tick := time.NewTicker(s.Poll)
	defer tick.Stop()
	path := s.Layout.LiveLog(run.ID, j.ID)
	for {
		if j.Status == build.Running {
			if text, n := readFrom(path, offset); n > 0 {
				offset += n
				if out.send("log", map[string]any{"text": text, "offset": offset}) != nil {
					return
				}
			}
		} else {
			out.send("end", j)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		if j, err = s.hist().Job(run.ID, j.ID); err != nil {
			return
		}
	}
}

// readFrom reads what a live log has past offset (at most 1 MiB a time),
// as valid UTF-8. The file is opened without following a link.
func readFrom(path string, offset int64) (string, int64) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "", 0
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", 0
	}
	data, _ := io.ReadAll(io.LimitReader(io.NewSectionReader(f, offset, 1<<62), 1<<20))
	return tail(data), int64(len(data))
}

func parseOffset(s string) (int64, error) {
	var n int64
	_, err := fmt.Sscan(s, &n)
	if n < 0 {
		n = 0
	}
	return n, err
}
