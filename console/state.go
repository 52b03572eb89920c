package console

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/quarrylinux/quarry/core/optin"
	"github.com/quarrylinux/quarry/core/publish"
	"github.com/quarrylinux/quarry/core/sign"
)

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// SIGsView is every configured SIG: what the current publication's
// signed index says of it, whether its last run failed, how to turn it on.
type SIGsView struct {
	Title   string    `json:"-"`
	Compose string    `json:"compose,omitempty"`
	SIGs    []SIGView `json:"sigs"`
	Problem string    `json:"problem,omitempty"` // why the index could not be read
}

// SIGView is one SIG.
type SIGView struct {
	Name        string       `json:"name"`
	Published   bool         `json:"published"`
	Version     string       `json:"version,omitempty"`
	Description string       `json:"description,omitempty"`
	Repos       []optin.Repo `json:"repos,omitempty"`
	RepoIDs     []string     `json:"repo_ids,omitempty"`
	// LastFailure is the newest finished run's error of this SIG.
	LastFailure string `json:"last_failure,omitempty"`
	FailedRun   int64  `json:"failed_run,omitempty"`
	Enable      string `json:"enable"` // the commands that turn it on
}

func (s *Server) sigsPage(r *http.Request) (string, any, error) {
	v := SIGsView{Title: "SIGs", SIGs: []SIGView{}}
	at := map[string]int{} // name → index in v.SIGs
	add := func(name string) *SIGView {
		i, ok := at[name]
		if !ok {
			i = len(v.SIGs)
			at[name] = i
			v.SIGs = append(v.SIGs, SIGView{Name: name})
		}
		return &v.SIGs[i]
	}
	for _, name := range s.SIGs {
		add(name)
	}
	if _, id := s.currentManifest(); id != "" {
		v.Compose = id
		var trust sign.Trust
		trust.Add(s.Trust, "the core key")
		x, _, err := optin.Load(s.Layout.Current(), &trust)
		if err != nil {
			v.Problem = err.Error()
		} else {
			for _, sg := range x.SIGs {
				sv := add(sg.Name)
				sv.Published, sv.Version, sv.Description, sv.Repos = true, sg.Version, sg.Description, sg.Repos
				for _, rp := range sg.Repos {
					sv.RepoIDs = append(sv.RepoIDs, s.Layout.SIGRepoID(sg.Name, rp.ID))
				}
			}
		}
	}
	if s.hist() != nil {
		if runs, err := s.hist().Runs(20, 0); err == nil {
			for _, run := range runs {
				for _, e := range run.Errors {
					for i := range v.SIGs {
						sv := &v.SIGs[i]
						if sv.LastFailure == "" && strings.HasPrefix(e, "sig "+sv.Name+":") {
							sv.LastFailure, sv.FailedRun = e, run.ID
						}
					}
				}
			}
		}
	}
	for i := range v.SIGs {
		n := v.SIGs[i].Name
		v.SIGs[i].Enable = "quarry sig enable " + n + "   or   dnf install " + s.Layout.ReleasePackage(n)
	}
	return "sigs", v, nil
}

// verification is Verify's report of one compose, made once.
type verification struct {
	Report *publish.Report
	Err    string
}

// VerifyView is the verification state of the current publication.
type VerifyView struct {
	Title    string          `json:"-"`
	Compose  string          `json:"compose"`
	Verified bool            `json:"verified"`
	Report   *publish.Report `json:"report,omitempty"`
	Error    string          `json:"error,omitempty"`
}

func (s *Server) verifyPage(r *http.Request) (string, any, error) {
	id, err := s.publisher().Current()
	if err != nil {
		return "", nil, err
	}
	v := VerifyView{Title: "Verification", Compose: id}
	if id == "" {
		v.Error = "nothing is published"
		return "verify", v, nil
	}
	s.mu.Lock()
	vr := s.verif[id]
	s.mu.Unlock()
	if vr == nil {
		// A compose never changes once named: verified once per id.
		var trust sign.Trust
		trust.Add(s.Trust, "the core key")
		rep, err := publish.Verify(filepath.Join(s.Layout.Out, "composes", id), &trust)
		vr = &verification{Report: rep}
		if err != nil {
			vr.Err = err.Error()
		}
		s.mu.Lock()
		s.verif[id] = vr
		s.mu.Unlock()
	}
	v.Report, v.Error = vr.Report, vr.Err
	v.Verified = vr.Err == "" && vr.Report != nil && len(vr.Report.Problems) == 0
	return "verify", v, nil
}
