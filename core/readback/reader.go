package readback

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/store"
)

// Reader reads jobs' RPMs from the store. The facts of each RPM are kept
// by its digest in Cache (when set): a digest names the content, so a
// re-run judges every RPM again without reading every blob again.
type Reader struct {
	Store *store.Store
	Cache string
}

const cacheVersion = "quarry-readback-v2" // v2: Supplements, Enhances

// Job reads every output of a finished job.
func (rd *Reader) Job(rec *build.Record) ([]*RPM, error) {
	out := make([]*RPM, 0, len(rec.Outputs))
	for _, o := range rec.Outputs {
		r, err := rd.Output(o)
		if err != nil {
			return nil, err
		}
		r.Job, r.Package = rec.Job.ID, rec.Job.Package
		out = append(out, r)
	}
	return out, nil
}

// Output reads one output: its blob, checked against its digest by the
// store, then its header.
func (rd *Reader) Output(o build.Output) (*RPM, error) {
	if r := rd.cached(o.SHA256); r != nil {
		r.File = o.File
		return r, nil
	}
	data, err := rd.Store.Get(o.SHA256)
	if err != nil {
		return nil, err
	}
	r, err := Read(o.File, o.SHA256, data)
	if err != nil {
		return nil, err
	}
	rd.keep(r)
	return r, nil
}

type cached struct {
	V   string `json:"v"`
	RPM *RPM   `json:"rpm"`
}

func (rd *Reader) cachePath(digest string) string {
	return filepath.Join(rd.Cache, digest[:2], digest+".json")
}

func (rd *Reader) cached(digest string) *RPM {
	if rd.Cache == "" || len(digest) < 2 {
		return nil
	}
	data, err := os.ReadFile(rd.cachePath(digest))
	if err != nil {
		return nil
	}
	var c cached
	if json.Unmarshal(data, &c) != nil || c.V != cacheVersion || c.RPM == nil || c.RPM.SHA256 != digest {
		return nil
	}
	return c.RPM
}

// keep caches r's facts; a failure only costs a read next time.
func (rd *Reader) keep(r *RPM) {
	if rd.Cache == "" {
		return
	}
	facts := *r
	facts.File, facts.Job, facts.Package = "", "", ""
	if data, err := json.Marshal(cached{V: cacheVersion, RPM: &facts}); err == nil {
		store.WriteCache(rd.cachePath(r.SHA256), data)
	}
}
