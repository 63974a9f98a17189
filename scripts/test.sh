#!/usr/bin/env bash
# The project's test command: formatting, vet (this platform and the
# cross-build targets), and the whole suite in every build variant, each
# asserting (GORSEQ_EXPECT) that it ran in the configuration it is meant to
# test, so a silent fallback cannot pass for the real thing.
#
#   bash scripts/test.sh          # everything below
#   SHORT=1 bash scripts/test.sh  # -short: fewer operations per test
#   GO_NEXT=go1.27.4 bash ...     # the second Go release to test (default
#                                 # go1.27.3, through GOTOOLCHAIN and the
#                                 # module proxy; GO_NEXT= skips it, saying so)
#
# Go releases: the installed go (1.26, the go directive's release) and
# GO_NEXT (1.27): the Go project supports the two newest, and the library
# checks the runtime's per-thread layout at start-up, so both are run.
#
# Link modes: pure Go (CGO_ENABLED=0); a C library linked by another
# package (-tags rseqcgo: runtime/cgo, and C threads calling into Go),
# dynamically against glibc with glibc's rseq on (its area is used) and
# off (GLIBC_TUNABLES=glibc.pthread.rseq=0: own areas), statically against
# glibc (no loader to find glibc's area in: the fallback, ReasonLibcArea;
# own areas with the tunable), and statically against musl when musl-gcc
# is installed (Debian's musl-tools; musl registers no rseq: own areas).
#
# The delay variant assembles every critical section with a spin just
# before its commit (DELAY in engine_linux_$GOARCH.s; delay_linux_test.go);
# the gap variant adds one between the store that arms a section and its
# start_ip (the unprotected window the layout must not have), where
# TestUnarmedWindow requires that it sees sections run unprotected.
set -euo pipefail
cd "$(dirname "$0")/.."
short=${SHORT:+-short}

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change: $bad"; exit 1; fi

echo "== go vet (linux/amd64 and cross-builds)"
go vet ./...
for t in linux/arm64 linux/386 linux/riscv64 darwin/amd64 darwin/arm64 windows/amd64 freebsd/amd64; do
	GOOS=${t%/*} GOARCH=${t#*/} CGO_ENABLED=0 go vet ./...
	GOOS=${t%/*} GOARCH=${t#*/} CGO_ENABLED=0 go build ./...
	GOOS=${t%/*} GOARCH=${t#*/} CGO_ENABLED=0 go test -c -o /dev/null .
	echo "   $t: vet, build, test build ok"
done
# The benchmark module (its own go.mod: xsync): vet it and run every
# benchmark once, so the comparisons in BENCHMARKS.md keep building.
(cd bench && go vet ./... && go test -count=1 ./steps >/dev/null && go test -run '^$' -bench . -benchtime 1x . >/dev/null)
echo "   bench module: vet, every benchmark once ok"
(cd prom && go vet ./... && go test -count=1 $short ./... && go test -run '^$' -bench . -benchtime 1x . >/dev/null)
echo "   prom module: vet, tests, every benchmark once ok"
# The delay build (sections spin just before their commit) on the other
# engine architecture: it must assemble there too.
GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go test -c -o /dev/null -asmflags=-D=RSEQ_DELAY .
GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go test -c -o /dev/null -asmflags=-D=RSEQ_GAP .
echo "   linux/arm64: delay and gap builds ok"

run() { # run LABEL ENV... -- GO-TEST-ARGS...
	local label=$1; shift
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
	echo "== go test: $label"
	local t=$SECONDS
	env "${envs[@]}" go test -count=1 $short "$@"
	echo "   ($((SECONDS - t))s)"
}
echo "== Go: $(go env GOVERSION)"
run "pure Go (CGO_ENABLED=0), own V2-ready registration" CGO_ENABLED=0 GORSEQ_EXPECT=library -- ./...
# One CPU (containers often have one): GOMAXPROCS is 1, every goroutine of
# a test shares the CPU, and the expected sums must not assume more.
# The first CPU this shell may run on (CPU 0 where nothing restricts it).
if command -v taskset >/dev/null; then
	cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')
	echo "== go test: one CPU (taskset -c $cpu, CGO_ENABLED=0, -short)"
	CGO_ENABLED=0 GORSEQ_EXPECT=library taskset -c "$cpu" go test -count=1 -short ./...
else
	echo "== go test: one CPU: skipped (no taskset)"
fi
# The library uses no cgo; -tags rseqcgo links the C library into the test
# binary (runtime/cgo, as another package's cgo would), with C threads
# calling into Go (internal/cgotest).
run "C library linked by another package: glibc's registration found without cgo" CGO_ENABLED=1 GORSEQ_EXPECT=libc -- -tags rseqcgo,libccgo ./...
run "C library linked, glibc.pthread.rseq=0: own areas reached through g.m" CGO_ENABLED=1 GLIBC_TUNABLES=glibc.pthread.rseq=0 GORSEQ_EXPECT=library-cgo -- -tags rseqcgo .
# A static binary: Go's resolver and user lookup (glibc's NSS cannot be
# loaded without a loader; the linker warns otherwise).
static=(-tags rseqcgo,netgo,osusergo -ldflags '-linkmode external -extldflags -static')
run "static glibc, glibc's rseq on: no loader to find its area in, so the fallback (ReasonLibcArea)" CGO_ENABLED=1 GORSEQ_EXPECT=libc-area -- "${static[@]}" .
run "static glibc, glibc.pthread.rseq=0: own areas" CGO_ENABLED=1 GLIBC_TUNABLES=glibc.pthread.rseq=0 GORSEQ_EXPECT=library-cgo -- "${static[@]}" .
if command -v musl-gcc >/dev/null 2>&1; then
	run "static musl (musl-gcc): own areas" CGO_ENABLED=1 CC=musl-gcc GORSEQ_EXPECT=library-cgo -- "${static[@]}" .
else
	echo "== go test: static musl: skipped, no musl-gcc (apt-get install musl-tools)"
fi
run "pure Go, sections delayed before their commit (-D=RSEQ_DELAY)" CGO_ENABLED=0 GORSEQ_EXPECT=library -- -asmflags=-D=RSEQ_DELAY .
run "gap build (-D=RSEQ_GAP: the old layout, a spin between the arming store and start_ip); TestUnarmedWindow must see sections run unprotected" \
	CGO_ENABLED=0 GORSEQ_EXPECT=library -- -asmflags=-D=RSEQ_GAP -run 'TestUnarmedWindow|TestFindSection|TestArmingStore' -v . |
	grep -E '^(== |--- |ok|FAIL)|unarmed|^   \('
run "fallback forced (GORSEQ=off)" GORSEQ=off GORSEQ_EXPECT=off -- . ./cmd/rseq
run "race detector (fallback)" GORSEQ_EXPECT=race -- -race . ./cmd/rseq

# The next Go release: vet, and the suite pure Go and with glibc linked
# (its area; own areas through g.m with its rseq off).
next=${GO_NEXT-go1.27.3}
if [ -z "$next" ]; then
	echo "== Go: only $(go env GOVERSION) tested (GO_NEXT is empty)"
else
	if ! v=$(GOTOOLCHAIN=$next go env GOVERSION) || [ "$v" != "$next" ]; then
		echo "GOTOOLCHAIN=$next gives '${v:-nothing}': the toolchain comes through the module proxy (GOPROXY); GO_NEXT= skips it"
		exit 1
	fi
	echo "== go vet: $next"
	GOTOOLCHAIN=$next go vet ./...
	GOTOOLCHAIN=$next GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go vet ./...
	run "$next: pure Go" GOTOOLCHAIN=$next CGO_ENABLED=0 GORSEQ_EXPECT=library -- ./...
	run "$next: C library linked, glibc's area" GOTOOLCHAIN=$next CGO_ENABLED=1 GORSEQ_EXPECT=libc -- -tags rseqcgo,libccgo . ./internal/libc
	run "$next: C library linked, glibc.pthread.rseq=0: own areas" GOTOOLCHAIN=$next CGO_ENABLED=1 GLIBC_TUNABLES=glibc.pthread.rseq=0 GORSEQ_EXPECT=library-cgo -- -tags rseqcgo .
fi
echo "== all variants passed ($(go env GOVERSION)${next:+ and $next})"
