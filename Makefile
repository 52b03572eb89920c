# The two set-up commands: `make demo` and `make test`. Both install what
# they need first (Debian packages with apt-get, Go modules).
GO ?= go
export PATH := $(PATH):/usr/local/go/bin
DEMO_STATE ?= out/demo

.PHONY: deps buildroots build man plugins demo check test-unit test bench clean proto

deps:
	@scripts/deps.sh

# The stand-in buildroot images every job builds in, one per arch, made
# once per machine (cached by content in /var/cache/quarry/images; see
# the script and README "Buildroots"), and qemu-user registered with
# binfmt_misc for the foreign arches.
buildroots: deps
	@scripts/binfmt.sh
	@scripts/buildroot.sh

build: deps
	$(GO) build -o bin/quarry ./cmd/quarry

# The man page, generated from the commands' own help.
man: build
	bin/quarry man > bin/quarry.1

# Every SIG plugin in sigs/ and examples/ into bin/quarry-sig-<name>
# (examples/hello-sig is the SIG "hello"). Stripped and reproducible: the
# host hashes the binary before every launch, and sigs.lock pins it.
PLUGIN_FLAGS = -trimpath -ldflags=-s\ -w
plugins: deps
	@mkdir -p bin
	@for d in sigs/*/ examples/*-sig/; do \
	  [ -f "$$d/main.go" ] || continue; \
	  n=$$(basename "$$d"); n=$${n%-sig}; \
	  echo "$(GO) build $(PLUGIN_FLAGS) -o bin/quarry-sig-$$n ./$$d"; \
	  $(GO) build $(PLUGIN_FLAGS) -o bin/quarry-sig-$$n ./$$d || exit 1; \
	done

# Rebuild the example distribution end to end from its generated upstream,
# with its SIGs (kernel, hpc, cloud, hello): signing keys, the plugins
# built and locked, import and debrand, plan, then the whole pipeline
# (build for every arch, compose, sign, the cloud image, publish into
# out/current), then verify the publication against the core's public key
# and list its SIGs; last, install the whole core with dnf into an empty
# root per arch (/tmp/pebble-try/<arch>/root) and run greet in each.
QUARRY_DEMO = bin/quarry --config examples/distro/quarry.yaml --state $(DEMO_STATE)
demo: build plugins buildroots
	$(GO) run ./testing/fixtures/cmd/mkupstream examples/distro examples/distro/upstream
	$(QUARRY_DEMO) key init
	for sig in kernel hpc cloud hello; do $(QUARRY_DEMO) key init --sig $$sig || exit 1; done
	$(QUARRY_DEMO) plugin lock
	$(QUARRY_DEMO) import
	$(QUARRY_DEMO) buildroot list
	$(QUARRY_DEMO) debrand --diff summit-logos
	$(QUARRY_DEMO) plan --out out
	$(QUARRY_DEMO) build --out out
	$(QUARRY_DEMO) verify out/current --key $(DEMO_STATE)/keys/RPM-GPG-KEY-pebble
	$(QUARRY_DEMO) sig list --key $(DEMO_STATE)/keys/RPM-GPG-KEY-pebble
	scripts/try-install.sh out/current $(DEMO_STATE)/keys/RPM-GPG-KEY-pebble /tmp/pebble-try

# gofmt, go vet and staticcheck on every package, in both modules (the
# core and sdk/, the SDK a SIG depends on). staticcheck is pinned by the
# core's go.mod tool directive: go tool builds that version, with no
# separate install, and the same binary checks the SDK.
GO_DIRS = cmd console core plugins proto sdk sigs examples testing
check: deps
	@test -z "$$(gofmt -l $(GO_DIRS))" || { gofmt -l $(GO_DIRS); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	cd sdk && $(GO) vet ./...
	@mkdir -p bin && $(GO) build -o bin/staticcheck honnef.co/go/tools/cmd/staticcheck
	cd sdk && ../bin/staticcheck ./...

# The test layers (CONTRIBUTING.md "Tests"). test-unit is the fast one:
# go test -short skips every slow test (each calls its package's slow(t):
# end to end through the binary, builds in the buildroots, plugins built
# and run, imports of the generated example); under a minute. test runs
# every test, the slow ones too (about ten minutes).
test-unit: deps buildroots check
	cd sdk && $(GO) test -short -count=1 ./...
	$(GO) test -short -count=1 ./...

test: deps buildroots check
	cd sdk && $(GO) test -count=1 ./...
	$(GO) test -count=1 -timeout 40m ./...

# Benchmarks against baselines run in the same process (see testing/bench).
bench: deps buildroots
	$(GO) test -run '^$$' -bench 'Import|Reimport|NoopRebuild' -benchtime 3x ./testing/bench/
	$(GO) test -run '^$$' -bench 'ExampleBuild' -benchtime 1x -timeout 30m ./testing/bench/
	$(GO) test -run '^$$' -bench 'RepoIndex10k|RepoIndex50k|Sign|PublishOneChange|GateBuilt' -benchtime 2x -timeout 30m ./testing/bench/
	$(GO) test -run '^$$' -bench 'Plugin|Conformance|Sandbox' -benchtime 1x ./testing/bench/
	$(GO) test -run '^$$' -bench 'History|Console|EngineBlobs|EngineCluster' -benchtime 1x -timeout 30m ./testing/bench/

# Regenerates the SIG protocol's Go code into the SDK module (needs
# protoc, protoc-gen-go and protoc-gen-go-grpc; see CONTRIBUTING.md). The
# compat test then checks the released majors did not change incompatibly.
SDK_MODULE = github.com/quarrylinux/quarry/sdk
proto:
	cd sdk && protoc -I proto --go_out=. --go_opt=module=$(SDK_MODULE) \
		--go-grpc_out=. --go-grpc_opt=module=$(SDK_MODULE) quarry/sig/v1/sig.proto
	cd sdk && $(GO) test ./internal/compat

clean:
	rm -rf bin out examples/distro/upstream
