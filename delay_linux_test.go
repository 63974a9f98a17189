//go:build linux && (amd64 || arm64) && !race

package rseq

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The delay build: go test -asmflags=-D=RSEQ_DELAY . assembles every
// section with a spin of sectionDelay+1 iterations just before its commit
// (DELAY in engine_linux_$GOARCH.s). The whole suite then runs with the
// window between a section's reads and its commit widened from a few
// cycles to GORSEQ_TEST_DELAY iterations (default 300), so preemption,
// signals and other CPUs land inside sections far more often. In normal
// builds the tests below skip, or fail where GORSEQ_TEST_DELAY is set
// (the run asked for a delay build and did not get one).

func init() {
	if !sectionDelayBuilt() {
		return
	}
	sectionDelay = 300
	if v := os.Getenv("GORSEQ_TEST_DELAY"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			panic("GORSEQ_TEST_DELAY: want a count of spins, got " + v)
		}
		sectionDelay = n
	}
}

// needDelay skips unless the engine runs in a delay build, and sets the
// spin count for the test.
func needDelay(t *testing.T, spins int64) {
	t.Helper()
	if !sectionDelayBuilt() {
		if v := os.Getenv("GORSEQ_TEST_DELAY"); v != "" {
			t.Fatalf("GORSEQ_TEST_DELAY=%s asks for delayed sections, but this is not a delay build (go test -asmflags=-D=RSEQ_DELAY)", v)
		}
		t.Skip("not a delay build (go test -asmflags=-D=RSEQ_DELAY)")
	}
	if !engineOn {
		t.Skipf("the engine is off: %v", Info().Reason)
	}
	old := sectionDelay
	sectionDelay = spins
	t.Cleanup(func() { sectionDelay = old })
}

// TestDelayBuild: the delay build really delays sections (the aborts rate
// goes up under a signal storm), so a passing suite in that build means
// something.
func TestDelayBuild(t *testing.T) {
	needDelay(t, 20000)
	p := newTestPerCPU(t, 64, ByCPU)
	stop := signalStorm()
	before := aborts.Load()
	const n = 20000
	for range n {
		p.Add(Current, 0, 1)
	}
	stop()
	a := aborts.Load() - before
	t.Logf("%d aborts in %d delayed sections", a, n)
	if a == 0 {
		t.Fatal("no delayed section was aborted under a signal storm: is the delay in the section?")
	}
	if got := sum(p, 0); got != n {
		t.Fatalf("sum %d, want %d", got, n)
	}
}

// mixedLost runs sections and fallback operations on the same word at
// once, each fallback operation aiming at the block a section last
// committed on, for as long as the sections run; it returns how many
// updates went missing. The fallback operations are spaced out (a section
// that finds one running diverts to the fallback itself, and back to back
// they would divert every section).
func mixedLost(p *PerCPU, pairs, ops int) (lost, total uint64) {
	var hot, fbOps atomic.Int64
	var done atomic.Bool
	var sections, fallback sync.WaitGroup
	for range pairs {
		sections.Add(1)
		go func() {
			defer sections.Done()
			for range ops {
				_, at, _ := p.Add(Current, 0, 1)
				hot.Store(int64(at))
			}
		}()
		fallback.Add(1)
		go func() {
			defer fallback.Done()
			for !done.Load() {
				fbAdd(&p.s, int(hot.Load()), 0, 1)
				fbOps.Add(1)
				for range 5000 {
					if done.Load() {
						break
					}
				}
			}
		}()
	}
	sections.Wait()
	done.Store(true)
	fallback.Wait()
	total = uint64(pairs*ops) + uint64(fbOps.Load())
	return total - sum(p, 0), total
}

// TestDelayMixedPathsNeedFence proves that TestMixedPaths can fail: with
// the fallback's fence left out, sections that passed their divert check
// before a fallback operation began commit over its update. With the
// fence, nothing is lost.
func TestDelayMixedPathsNeedFence(t *testing.T) {
	needDelay(t, 20000)
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two CPUs running at once")
	}
	pairs, ops := runtime.GOMAXPROCS(0), 5000
	// Losing an update takes a section and a fallback operation running at
	// the same moment on two CPUs; on a busy machine that may take a few
	// rounds.
	fbSkipFence = true
	t.Cleanup(func() { fbSkipFence = false })
	var lost, total uint64
	deadline := time.Now().Add(20 * time.Second)
	for round := 1; ; round++ {
		l, n := mixedLost(newTestPerCPU(t, 64, ByCPU), pairs, ops)
		lost, total = lost+l, total+n
		if lost > 0 || time.Now().After(deadline) {
			t.Logf("without the fence: %d of %d updates lost (%d rounds)", lost, total, round)
			break
		}
	}
	fbSkipFence = false
	if lost == 0 {
		t.Error("no update was lost without the fence: the mixed-paths tests could not detect its absence")
	}
	lost, total = mixedLost(newTestPerCPU(t, 64, ByCPU), pairs, ops)
	t.Logf("with the fence: %d of %d updates lost", lost, total)
	if lost != 0 {
		t.Error("updates lost with the fence")
	}
}
