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
	"net/http"
	"os"
	"strings"
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
// and local paths.
type Fetcher struct {
	Client *http.Client
}

// Fetch reads url.
func (f *Fetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	if p, ok := localPath(url); ok {
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s does not exist", url)
		}
		return data, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s does not answer: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// expand fills a URL template's placeholders.
func expand(tmpl string, vars map[string]string) string {
	for k, v := range vars {
		tmpl = strings.ReplaceAll(tmpl, "{"+k+"}", v)
	}
	return tmpl
}
