package rseq

import (
	"io"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// opsPerGoroutine is how many operations each goroutine of a concurrency
// test performs: 10^6 with the engine, fewer on the fallback (race builds
// run it under the detector, two orders of magnitude slower).
func opsPerGoroutine() int {
	switch {
	case testing.Short():
		return 20000
	case raceEnabled:
		return 30000
	case !engineOn:
		return 200000
	}
	return 1000000
}

// hammer runs body(g) for g in [0, workers()) while the process is being
// disturbed the ways real programs are: asynchronous preemption (more
// goroutines than Ps, tight loops), CPU profiling (SIGPROF on every thread)
// and a storm of signals sent to the process. It returns the number of
// goroutines it ran (always workers(): expected sums use either). With the
// engine on, it keeps the storm going until the kernel has aborted at least
// one section, and fails if none was aborted: the abort path must have run.
func hammer(t *testing.T, body func(g int)) int {
	t.Helper()
	if err := pprof.StartCPUProfile(io.Discard); err == nil {
		defer pprof.StopCPUProfile()
	} else {
		t.Logf("CPU profiling not started (%v)", err)
	}
	stopStorm := signalStorm()
	defer stopStorm()
	before := aborts.Load()
	n := workers()
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(g)
		}()
	}
	wg.Wait()
	if engineOn {
		// Prove the abort path ran: keep sections running under the storm
		// until one is aborted (this almost always happened above).
		deadline := time.Now().Add(10 * time.Second)
		mem := make([]uint64, 8*PossibleCPUs())
		p, _ := NewPerCPU(unsafe.Pointer(&mem[0]), 64, PossibleCPUs(), ByCPU)
		for aborts.Load() == before && time.Now().Before(deadline) {
			for i := 0; i < 100000; i++ {
				p.Add(Current, 0, 1)
			}
		}
		if aborts.Load() == before {
			t.Errorf("no critical section was aborted: the abort path never ran")
		}
		t.Logf("aborts observed: %d", aborts.Load()-before)
	}
	return n
}

// offHeap maps n bytes of zeroed memory outside the Go heap.
func offHeap(t testing.TB, n int) unsafe.Pointer {
	t.Helper()
	b := make([]uint64, (n+7)/8) // heap memory is fine too: no pointers in it
	return unsafe.Pointer(&b[0])
}

// modes runs f for each index mode the process supports; the fallback
// handles ByConcurrencyID where mm_cid is missing, so both always run.
func modes(t *testing.T, f func(t *testing.T, by Indexing)) {
	for _, by := range []Indexing{ByCPU, ByConcurrencyID} {
		t.Run(by.String(), func(t *testing.T) { f(t, by) })
	}
}

// indexFor returns the index goroutine g should name explicitly: the one
// it runs on, or, where that cannot be read (no mm_cid, no rseq), one
// chosen from g (the fallback honours any explicit index).
func indexFor(p *PerCPU, by Indexing, g int) int {
	idx := CPU()
	if by == ByConcurrencyID {
		idx = ConcurrencyID()
	}
	if idx < 0 || idx >= p.Len() {
		idx = g % p.Len()
	}
	return idx
}

var sinkAtomic atomic.Int64
