# The two set-up commands: `make demo` and `make test`. Both install what
# they need first (Debian packages with apt-get, Go modules).
GO ?= go
export PATH := $(PATH):/usr/local/go/bin
DEMO_STATE ?= out/demo

.PHONY: deps build demo test bench clean

deps:
	@scripts/deps.sh

build: deps
	$(GO) build -o bin/quarry ./cmd/quarry

# Rebuild the example distribution end to end from its generated upstream:
# import and debrand, plan, build for every arch.
demo: build
	$(GO) run ./testing/fixtures/cmd/mkupstream examples/distro examples/distro/upstream
	bin/quarry --config examples/distro/quarry.yaml --state $(DEMO_STATE) import
	bin/quarry --config examples/distro/quarry.yaml --state $(DEMO_STATE) debrand --diff summit-logos
	bin/quarry --config examples/distro/quarry.yaml --state $(DEMO_STATE) plan
	bin/quarry --config examples/distro/quarry.yaml --state $(DEMO_STATE) build

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Benchmarks against baselines run in the same process (see testing/bench).
bench: deps
	$(GO) test -run '^$$' -bench 'Import|Reimport|NoopRebuild' -benchtime 3x ./testing/bench/
	$(GO) test -run '^$$' -bench 'ExampleBuild' -benchtime 1x -timeout 30m ./testing/bench/

clean:
	rm -rf bin out examples/distro/upstream
