package console

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/history"
	"github.com/quarrylinux/quarry/core/publish"
	"github.com/quarrylinux/quarry/core/treefs"
)

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// RunsView is the runs page: the newest runs, the running one first.
type RunsView struct {
	Title   string        `json:"-"`
	Current *history.Run  `json:"current,omitempty"`
	Runs    []history.Run `json:"runs"`
}

func (s *Server) runsPage(r *http.Request) (string, any, error) {
	v := RunsView{Title: "Runs", Runs: []history.Run{}}
	if s.hist() == nil {
		return "runs", v, nil
	}
	runs, err := s.hist().Runs(50, 0)
	if err != nil {
		return "", nil, err
	}
	v.Runs = runs
	if cur, ok, err := s.hist().Current(); err == nil && ok {
		v.Current = &cur
	}
	return "runs", v, nil
}

// RunView is one run: its record, and its jobs as a grid of packages by
// arches.
type RunView struct {
	Title  string        `json:"-"`
	Run    history.Run   `json:"run"`
	Arches []string      `json:"arches"`
	Rows   []Row         `json:"-"`
	Jobs   []history.Job `json:"jobs"`
	// Page is this page of jobs (PageJobs each); Prev and Next the
	// others, 0 for none.
	Page            int    `json:"page"`
	Prev            int    `json:"prev_page,omitempty"`
	Next            int    `json:"next_page,omitempty"`
	Status, Package string `json:"-"` // the filters, for the links
	// Since is the newest write the page shows: its live updates start
	// after it, so that nothing written since it was read is missed.
	Since int64 `json:"-"`
}

// PageJobs is how many jobs a run's page (and its JSON twin) holds.
const PageJobs = 2000

// Row is one package's jobs, one cell per arch (nil: no job).
type Row struct {
	Package string
	SIG     string
	Cells   []*history.Job
}

func (s *Server) runPage(r *http.Request) (string, any, error) {
	id, err := runID(r)
	if err != nil {
		return "", nil, err
	}
	if s.hist() == nil {
		return "", nil, notFound("no run history yet")
	}
	run, err := s.hist().Run(id)
	if err != nil {
		return "", nil, fmt.Errorf("run %d: %w", id, err)
	}
	// A page of jobs at a time: a run of 10,000 jobs is 5 pages.
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pg = max(pg, 1)
	f := history.Filter{Status: r.URL.Query().Get("status"), Package: r.URL.Query().Get("package"), Limit: PageJobs + 1, Offset: (pg - 1) * PageJobs}
	jobs, err := s.hist().Jobs(id, f)
	if err != nil {
		return "", nil, err
	}
	v := RunView{Title: fmt.Sprintf("Run %d", id), Run: run, Page: pg, Status: f.Status, Package: f.Package}
	if len(jobs) > PageJobs {
		jobs, v.Next = jobs[:PageJobs], pg+1
	}
	if pg > 1 {
		v.Prev = pg - 1
	}
	v.Jobs, v.Arches = jobs, s.arches(jobs)
	for _, j := range jobs {
		v.Since = max(v.Since, j.Seq)
	}
	col := map[string]int{}
	for i, a := range v.Arches {
		col[a] = i
	}
	rows := map[string]*Row{}
	for i := range jobs {
		j := &jobs[i]
		row := rows[j.Package]
		if row == nil {
			row = &Row{Package: j.Package, SIG: j.SIG, Cells: make([]*history.Job, len(v.Arches))}
			rows[j.Package] = row
		}
		row.Cells[col[j.Arch]] = j
	}
	for _, name := range sortedKeys(rows) {
		v.Rows = append(v.Rows, *rows[name])
	}
	return "run", v, nil
}

// arches are the grid's columns: the distribution's, then noarch and any
// other a job has.
func (s *Server) arches(jobs []history.Job) []string {
	out := slices.Clone(s.Arches)
	for _, j := range jobs {
		if !slices.Contains(out, j.Arch) {
			out = append(out, j.Arch)
		}
	}
	return out
}

// JobView is one job of a run: its record, what it was built from (the
// job cache's record) and where its provenance is published.
type JobView struct {
	Title      string        `json:"-"`
	Run        history.Run   `json:"run"`
	Job        history.Job   `json:"job"`
	Record     *build.Record `json:"record,omitempty"`
	Provenance []string      `json:"provenance,omitempty"` // paths in the current compose
	Compose    string        `json:"compose,omitempty"`
}

func (s *Server) job(r *http.Request) (history.Run, history.Job, error) {
	id, err := runID(r)
	if err != nil {
		return history.Run{}, history.Job{}, err
	}
	if s.hist() == nil {
		return history.Run{}, history.Job{}, notFound("no run history yet")
	}
	run, err := s.hist().Run(id)
	if err != nil {
		return run, history.Job{}, fmt.Errorf("run %d: %w", id, err)
	}
	name := r.PathValue("pkg") + "/" + r.PathValue("arch")
	j, err := s.hist().Job(id, name)
	if err != nil {
		return run, j, fmt.Errorf("run %d: job %s: %w", id, name, err)
	}
	return run, j, nil
}

func (s *Server) jobPage(r *http.Request) (string, any, error) {
	run, j, err := s.job(r)
	if err != nil {
		return "", nil, err
	}
	v := JobView{Title: "Job " + j.ID, Run: run, Job: j}
	if j.Key != "" {
		c := &build.Cache{Dir: s.Layout.BuildDir(), Store: s.Store}
		if rec, ok := c.Get(j.Key); ok {
			v.Record = rec
		}
	}
	if m, id := s.currentManifest(); m != nil {
		v.Compose = id
		for _, a := range m.Artifacts {
			if a.Job == j.ID && a.Provenance != "" && !slices.Contains(v.Provenance, a.Provenance) {
				v.Provenance = append(v.Provenance, a.Provenance)
			}
		}
	}
	return "job", v, nil
}

// LogView is a job's log: from the store once the job finished, from
// its live file while it runs.
type LogView struct {
	Title   string      `json:"-"`
	Run     history.Run `json:"-"`
	Job     history.Job `json:"job"`
	Log     string      `json:"log"`
	Live    bool        `json:"live"`
	Missing string      `json:"missing,omitempty"`
}

// maxLog is the most of a log a page shows; the rest is cut from its
// start (build.limits.log bounds a log anyway).
const maxLog = 8 << 20

func (s *Server) logPage(r *http.Request) (string, any, error) {
	run, j, err := s.job(r)
	if err != nil {
		return "", nil, err
	}
	v := LogView{Title: "Log of " + j.ID, Run: run, Job: j}
	switch {
	case j.Log != "":
		data, err := s.Store.Get(j.Log)
		if err != nil {
			return "", nil, fmt.Errorf("the log of %s: %w", j.ID, err)
		}
		v.Log = tail(data)
	case j.Status == build.Running:
		v.Live = true
		data, _ := readLive(s.Layout.LiveLog(run.ID, j.ID))
		v.Log = tail(data)
	default:
		v.Missing = "no log: the job " + j.Status + " before it ran"
		if j.Status == build.Cached {
			v.Missing = "cached: it did not run in this run"
		}
	}
	return "log", v, nil
}

// readLive reads a live log, refusing anything but a regular file: the
// folder is the core's, but a console never follows a link.
func readLive(path string) ([]byte, error) {
	t, err := treefs.Open(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return t.ReadFile(filepath.Base(path))
}

func tail(data []byte) string {
	if len(data) > maxLog {
		data = data[len(data)-maxLog:]
	}
	return strings.ToValidUTF8(string(data), "\uFFFD")
}

// ComposesView lists the published tree's composes.
type ComposesView struct {
	Title    string            `json:"-"`
	Out      string            `json:"out"`
	Composes []publish.Compose `json:"composes"`
	// Runs are the runs that published them, by compose.
	Runs map[string]int64 `json:"runs,omitempty"`
}

func (s *Server) publisher() *publish.Publisher { return &publish.Publisher{Out: s.Layout.Out} }

func (s *Server) composesPage(r *http.Request) (string, any, error) {
	cs, err := s.publisher().Composes()
	if err != nil {
		return "", nil, err
	}
	v := ComposesView{Title: "Composes", Out: s.Layout.Out, Composes: cs, Runs: map[string]int64{}}
	if s.hist() != nil {
		if hs, err := s.hist().Composes(1000); err == nil {
			for _, h := range hs {
				v.Runs[h.ID] = h.Run
			}
		}
	}
	if v.Composes == nil {
		v.Composes = []publish.Compose{}
	}
	return "composes", v, nil
}

// ComposeView is what one compose holds: its packages by repository and
// arch, and its images.
type ComposeView struct {
	Title   string          `json:"-"`
	ID      string          `json:"id"`
	Current bool            `json:"current"`
	Repos   []RepoView      `json:"repos"`
	Images  []publish.Image `json:"images"`
}

// RepoView is one repository folder's packages.
type RepoView struct {
	Path     string   `json:"path"` // repos/BaseOS/x86_64, sig/hpc/hpc/aarch64, ...
	Packages []string `json:"packages"`
}

func (s *Server) composePage(r *http.Request) (string, any, error) {
	id := r.PathValue("id")
	ids, err := s.publisher().List()
	if err != nil {
		return "", nil, err
	}
	if !slices.Contains(ids, id) {
		return "", nil, notFound("no compose %q in %s", id, s.Layout.Out)
	}
	m, err := readManifest(filepath.Join(s.Layout.Out, "composes", id))
	if err != nil {
		return "", nil, err
	}
	cur, _ := s.publisher().Current()
	v := ComposeView{Title: "Compose " + id, ID: id, Current: cur == id, Images: m.Images}
	byRepo := map[string][]string{}
	for _, a := range m.Artifacts {
		for _, p := range a.Paths {
			dir := filepath.Dir(filepath.Dir(p)) // <repo dir>/Packages/<x>/<file>
			if strings.HasSuffix(dir, "/Packages") {
				dir = filepath.Dir(dir)
			}
			byRepo[dir] = append(byRepo[dir], a.File)
		}
	}
	for _, dir := range sortedKeys(byRepo) {
		pk := byRepo[dir]
		sort.Strings(pk)
		v.Repos = append(v.Repos, RepoView{Path: dir, Packages: slices.Compact(pk)})
	}
	if v.Images == nil {
		v.Images = []publish.Image{}
	}
	return "compose", v, nil
}

// currentManifest is the current compose's manifest, read as data.
func (s *Server) currentManifest() (*publish.Manifest, string) {
	id, err := s.publisher().Current()
	if err != nil || id == "" {
		return nil, ""
	}
	m, err := readManifest(filepath.Join(s.Layout.Out, "composes", id))
	if err != nil {
		return nil, ""
	}
	return m, id
}

func readManifest(dir string) (*publish.Manifest, error) {
	t, err := treefs.Open(dir)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	data, err := t.ReadFile(publish.ManifestFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, notFound("%s has no %s", dir, publish.ManifestFile)
	}
	if err != nil {
		return nil, err
	}
	var m publish.Manifest
	if err := jsonUnmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Path(publish.ManifestFile), err)
	}
	return &m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
