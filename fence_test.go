package rseq

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFenceStopsCommits: workers increment per-CPU words with sections
// guarded by a shared gate word. Once the gate is closed and the fence has
// returned, no section may commit: the sums must not move any more.
func TestFenceStopsCommits(t *testing.T) {
	logEngine(t)
	for _, kind := range []string{"all", "each-cpu"} {
		t.Run(kind, func(t *testing.T) {
			for round := 0; round < scale(20); round++ {
				fenceRound(t, kind)
			}
		})
	}
}

func fenceRound(t *testing.T, kind string) {
	r := allocDefault(1)
	defer mustFree(r)
	p, off := r.PerCPU(), r.Off()
	var gate uint64 // 0: open
	var stop atomic.Bool
	var commits atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < workers(); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			for i := 0; !stop.Load(); i++ {
				cpu := CPU()
				if cpu < 0 || cpu >= p.Len() {
					cpu = 0
				}
				old := p.Load(cpu, off)
				if _, _, res := p.CompareAndSwapGuarded(cpu, off, old, old+1, &gate, 0); res == Committed {
					n++
				}
				if i%64 == 0 {
					runtime.Gosched()
				}
			}
			commits.Add(n)
		}()
	}
	time.Sleep(2 * time.Millisecond)
	atomic.StoreUint64(&gate, 1)
	if kind == "all" {
		FenceAll()
	} else {
		for cpu := 0; cpu < PossibleCPUs(); cpu++ {
			Fence(cpu)
		}
	}
	sum := func() (s uint64) {
		for cpu := 0; cpu < p.Len(); cpu++ {
			s += p.Load(cpu, off)
		}
		return s
	}
	before := sum()
	time.Sleep(time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if after := sum(); after != before {
		t.Fatalf("%d commits after the fence (sum %d, then %d)", after-before, before, after)
	}
	if got := uint64(commits.Load()); got != before {
		t.Fatalf("workers counted %d commits, memory says %d", got, before)
	}
}

func mustFree(r Ref) { r.chunk.slab.Free(r) }

func TestFenceBadCPU(t *testing.T) {
	panics(t, "Fence(-1)", func() { Fence(-1) })
	panics(t, "Fence(PossibleCPUs())", func() { Fence(PossibleCPUs()) })
}

func BenchmarkFenceAll(b *testing.B) {
	for b.Loop() {
		FenceAll()
	}
}

func BenchmarkFenceCPU(b *testing.B) {
	for b.Loop() {
		Fence(0)
	}
}
