// Package s3test serves an S3-compatible store for tests and benchmarks:
// gofakes3 over a folder (every object a file, not fsynced), on
// loopback, reached with minio-go as a production S3 store would be.
// No S3 server can be installed on the build machines (minio is not
// served by their registries); gofakes3 speaks the same protocol,
// multipart uploads included.
package s3test

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/spf13/afero"

	"github.com/quarrylinux/quarry/core/blobs"
)

// Start serves a bucket over a folder of tb's and returns a Store on it.
func Start(tb testing.TB) *blobs.S3 {
	tb.Helper()
	fs, err := s3afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(tb.TempDir(), "s3"), s3afero.FsPathCreateAll)
	if err != nil {
		tb.Fatal(err)
	}
	be, err := s3afero.SingleBucket("quarry", fs, nil)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(be).Server())
	tb.Cleanup(srv.Close)
	cl, err := minio.New(strings.TrimPrefix(srv.URL, "http://"), &minio.Options{Creds: credentials.NewStaticV4("quarry", "quarry-secret", "")})
	if err != nil {
		tb.Fatal(err)
	}
	return &blobs.S3{Client: cl, Bucket: "quarry"}
}
