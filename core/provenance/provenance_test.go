package provenance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/toolchain"
)

func record() *build.Record {
	return &build.Record{
		Key: "k1",
		Job: build.Job{ID: "hello/x86_64", Package: "hello", Arch: "x86_64",
			SRPM:      build.Input{Name: "hello-1-1.src.rpm", SHA256: "aa"},
			Buildroot: []build.Input{{Name: "libgreet-devel-1-1.x86_64.rpm", SHA256: "bb"}},
			Env:       toolchain.Env{Arch: "x86_64", Macros: "%dist .p9", Toolchain: "gcc 12.2.0; rpm 4.18.0"}},
		Command: []string{"bwrap", "sh", "-c", "rpmbuild --rebuild hello-1-1.src.rpm"},
		Start:   time.Unix(1700000100, 0).UTC(), End: time.Unix(1700000200, 0).UTC(),
		Log:     "cc",
		Outputs: []build.Output{{File: "hello-1-1.x86_64.rpm", SHA256: "dd", Name: "hello", Arch: "x86_64", EVR: "1-1"}},
	}
}

func input() Input {
	return Input{
		Distribution: "pebble", Version: "9.4",
		Builder: Builder{ID: "https://example/builder", Version: map[string]string{"quarry": "test"}},
		Record:  record(),
		Source: &lock.Package{
			Upstream: lock.Upstream{Kind: "dist-git", URL: "https://git.example/hello", Ref: "c9", Commit: "0123abcd"},
			Sources:  map[string]string{"SPECS/hello.spec": "ee", "SOURCES/hello-1.tar.gz": "ff"},
			Patches:  &lock.Patches{URL: "https://git.example/patch/hello", Commits: map[string]string{"main": "4567"}},
		},
		Subjects: []Resource{{Name: "hello-1-1.x86_64.rpm", Digest: map[string]string{"sha256": "99"}}},
	}
}

// TestStatementSaysHowItWasBuilt: the statement carries what the issue
// lists, and signs and opens deterministically; tampering or another key
// is refused.
func TestStatementSaysHowItWasBuilt(t *testing.T) {
	key, err := sign.Generate("T <t@example>", 2048, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	st := Make(input())
	env, err := Sign(key, st, st.Predicate.RunDetails.Metadata.FinishedOn)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Sign(key, Make(input()), st.Predicate.RunDetails.Metadata.FinishedOn)
	if !bytes.Equal(env, again) {
		t.Error("the same build signed twice gives different envelopes")
	}
	got, err := Open(key.Public(), env)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Has("hello-1-1.x86_64.rpm", "99") || got.Has("hello-1-1.x86_64.rpm", "dd") {
		t.Errorf("subjects %+v", got.Subject)
	}
	raw, _ := json.Marshal(got)
	for _, want := range []string{`"gitCommit":"0123abcd"`, `"patches:main"`, `"gitCommit":"4567"`, `"source:SOURCES/hello-1.tar.gz"`,
		`"buildroot:libgreet-devel-1-1.x86_64.rpm"`, `"srpm:hello-1-1.src.rpm"`, `"toolchain":"gcc 12.2.0; rpm 4.18.0"`,
		`"rpmbuild --rebuild hello-1-1.src.rpm"`, `"id":"https://example/builder"`, `"name":"build.log"`, `"predicateType":"https://slsa.dev/provenance/v1"`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("statement lacks %s:\n%s", want, raw)
		}
	}

	// A payload changed after signing.
	var e Envelope
	json.Unmarshal(env, &e)
	payload, _ := base64.StdEncoding.DecodeString(e.Payload)
	e.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(payload, []byte(`"99"`), []byte(`"98"`), 1))
	tampered, _ := json.Marshal(e)
	if _, err := Open(key.Public(), tampered); !errors.Is(err, ErrUnsigned) {
		t.Errorf("tampered payload: %v", err)
	}
	other, _ := sign.Generate("O <o@example>", 2048, time.Unix(1700000000, 0))
	if _, err := Open(other.Public(), env); !errors.Is(err, ErrUnsigned) {
		t.Errorf("another key: %v", err)
	}
	if _, err := Open(key.Public(), []byte("{")); err == nil {
		t.Error("garbage opened")
	}
}
