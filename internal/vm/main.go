// Command vm is the kernel-matrix harness: it fetches Debian kernels with
// a private apt configuration, builds an initramfs holding a small Go
// /init (internal/vm/init) and the given static test binaries, boots each
// kernel under qemu (TCG), reads the serial console, and prints one row
// per kernel. It exits non-zero on any failure or timeout.
//
//	go run ./internal/vm -kernels sid-amd64,sid-arm64,bookworm-amd64 \
//	    -go 'probe=./internal/vm/probe' -gotest 'rseq=. -test.v'
//
// With no test flags it runs the rseq probe (internal/vm/probe).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// config holds the parsed flags.
type config struct {
	kernels   string
	cache     string
	out       string
	testFile  string
	tests     []testSpec
	files     []fileSpec
	install   bool
	fetchOnly bool
	refresh   bool
	maxAge    time.Duration
	retries   int
	boot      bootOptions
}

func defaultCache() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "rseq-vm")
	}
	return filepath.Join(os.TempDir(), "rseq-vm")
}

func parseFlags() *config {
	c := &config{}
	flag.StringVar(&c.kernels, "kernels", defaultKernels, "comma-separated kernels to boot: "+fmt.Sprint(kernelNames()))
	flag.StringVar(&c.cache, "cache", defaultCache(), "cache dir for apt state, packages, kernels and builds")
	flag.StringVar(&c.out, "out", "", "dir for console logs and initramfs images (default <cache>/out)")
	flag.Var(specList{prebuilt, &c.tests}, "run", "test `[arch:]name=[env KEY=VALUE...] path args...`, a binary built by the caller; {arch} in path becomes amd64 or arm64 (repeatable; env and arch: as for all test flags)")
	flag.Var(specList{goBuild, &c.tests}, "go", "test `name=./pkg args...`, a main package the harness cross-compiles (repeatable)")
	flag.Var(specList{goTest, &c.tests}, "gotest", "test `name=./pkg args...`, a package's tests built with go test -c (repeatable)")
	flag.Var(fileList{&c.files}, "file", "extra file `[arch:]/guest/path=/host/path` for the initramfs, e.g. a dynamic loader and C library for dynamically linked tests; {arch} in the host path becomes amd64 or arm64; without arch: every architecture (repeatable)")
	flag.StringVar(&c.testFile, "tests", "", "file of tests, one per line: [run|go|gotest] name=[env KEY=VALUE...] path args...")
	flag.BoolVar(&c.install, "install", false, "apt-get install missing qemu packages into the host")
	flag.BoolVar(&c.fetchOnly, "fetch-only", false, "fetch the kernels and stop")
	flag.BoolVar(&c.refresh, "refresh", false, "run apt-get update even if the lists are fresh")
	flag.DurationVar(&c.maxAge, "max-age", 24*time.Hour, "age after which the private apt lists are updated")
	flag.DurationVar(&c.boot.timeout, "timeout", 5*time.Minute, "limit for one boot, from qemu start to exit")
	flag.DurationVar(&c.boot.testTimeout, "test-timeout", 3*time.Minute, "limit for one test inside the guest")
	flag.IntVar(&c.retries, "boot-retries", 2, "boot again when the kernel dies before /init starts (never on test failures)")
	flag.IntVar(&c.boot.smp, "smp", 2, "guest CPUs")
	flag.IntVar(&c.boot.numa, "numa", 0, "split the guest's CPUs and memory over `N` NUMA nodes (0: no NUMA topology)")
	flag.StringVar(&c.boot.memory, "m", "1G", "guest memory")
	flag.BoolVar(&c.boot.verbose, "v", false, "echo the guest console")
	flag.BoolVar(&c.boot.loud, "loud", false, "boot without \"quiet\" (full kernel log)")
	flag.Parse()
	if c.out == "" {
		c.out = filepath.Join(c.cache, "out")
	}
	return c
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vm: "+format+"\n", args...)
}

func main() {
	c := parseFlags()
	if err := run(c); err != nil {
		logf("%v", err)
		os.Exit(1)
	}
}
