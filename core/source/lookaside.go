package source

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// Hash is a source file's expected digest.
type Hash struct {
	Type  string // sha1, sha256 or sha512
	Value string // lower-case hex
}

func newHash(typ, value string) (Hash, error) {
	typ, value = strings.ToLower(typ), strings.ToLower(value)
	want := map[string]int{"sha1": 40, "sha256": 64, "sha512": 128}
	n, ok := want[typ]
	if !ok {
		return Hash{}, fmt.Errorf("hash type %s is not supported (sha256, sha512, and sha1 for old branches)", typ)
	}
	if len(value) != n || strings.Trim(value, "0123456789abcdef") != "" {
		return Hash{}, fmt.Errorf("%q is not a %s hash", value, typ)
	}
	return Hash{Type: typ, Value: value}, nil
}

func (h Hash) hasher() hash.Hash {
	switch h.Type {
	case "sha1":
		return sha1.New()
	case "sha512":
		return sha512.New()
	}
	return sha256.New()
}

// Verify checks data against h.
func (h Hash) Verify(data []byte) error {
	w := h.hasher()
	w.Write(data)
	if got := hex.EncodeToString(w.Sum(nil)); got != h.Value {
		return fmt.Errorf("%s mismatch: expected %s, got %s", h.Type, h.Value, got)
	}
	return nil
}

// Fetcher downloads lookaside objects over HTTP(S) or from file:// URLs
// and local paths. Upstream is not trusted to be sane: a download is
// bounded in size and time.
type Fetcher struct {
	Client *http.Client
	// MaxBytes bounds one object (default MaxFetch).
	MaxBytes int64
}

// MaxFetch is the largest source object fetched by default: above the
// largest source archives EL ships.
const MaxFetch = 4 << 30

// defaultClient gives up on a server that does not answer, and on a
// download that takes longer than any real one would.
var defaultClient = &http.Client{
	Timeout: time.Hour,
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		MaxIdleConnsPerHost:   8,
	},
}

// Fetch reads url.
func (f *Fetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	limit := f.MaxBytes
	if limit <= 0 {
		limit = MaxFetch
	}
	if p, ok := localPath(url); ok {
		// Opened once (without blocking on a FIFO), then judged by what
		// was opened: the name may be swapped meanwhile.
		f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s does not exist", url)
		} else if err != nil {
			return nil, err
		}
		defer f.Close()
		st, err := f.Stat()
		switch {
		case err != nil:
			return nil, err
		case !st.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file", url)
		case st.Size() > limit:
			return nil, fmt.Errorf("%s: %d bytes, over the limit of %d", url, st.Size(), limit)
		}
		data, err := io.ReadAll(io.LimitReader(f, limit+1))
		if err == nil && int64(len(data)) > limit {
			err = fmt.Errorf("%s: more than the limit of %d bytes", url, limit)
		}
		return data, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	client := f.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s does not answer: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%s: %d bytes, over the limit of %d", url, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: more than the limit of %d bytes", url, limit)
	}
	return data, nil
}

// expand fills a URL template's placeholders.
func expand(tmpl string, vars map[string]string) string {
	for k, v := range vars {
		tmpl = strings.ReplaceAll(tmpl, "{"+k+"}", v)
	}
	return tmpl
}
