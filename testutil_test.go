package rseq

import (
	"os"
	"runtime"
	"testing"
)

// scale returns n, or n/10 (at least 1) under -short, so that each
// structure test runs a few seconds on two cores.
func scale(n int) int {
	if testing.Short() {
		n /= 10
	}
	return max(n, 1)
}

// workers is the number of goroutines the invariant tests run: several
// per CPU, so that goroutines migrate and preempt one another, and at
// least 8 so that one CPU (GOMAXPROCS=1, taskset -c 0) still has
// goroutines preempting one another. hammer runs exactly this many: the
// one definition every expected sum uses.
func workers() int { return max(8, 4*runtime.GOMAXPROCS(0)) }

// logEngine says which path the tests exercise.
func logEngine(t testing.TB) {
	t.Helper()
	in := ReadInfo()
	if in.Usable {
		t.Logf("engine: rseq (%s, owner %s)", in.Mode, in.Owner)
	} else {
		t.Logf("engine: fallback (%s) GORSEQ=%q", in.Reason, os.Getenv("GORSEQ"))
	}
}

// requireEngine skips t unless critical sections run as restartable
// sequences in this process, saying what needs them and why they are not
// used: the one skip every engine-only test shares.
func requireEngine(t testing.TB, what string) {
	t.Helper()
	if !engineOn {
		t.Skipf("%s needs restartable sequences, which this process does not use: %v", what, ReadInfo().Err)
	}
}
