package rseq

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestCellZeroValue: a zero cell gets its word on first use, once, even
// when many goroutines use it first at the same time, and then counts
// exactly under preemption and signals.
func TestCellZeroValue(t *testing.T) {
	logEngine(t)
	type owner struct {
		c cell
		_ [8]byte
	}
	o := new(owner)
	const first, each = 16, 1000
	var ready, done sync.WaitGroup
	ready.Add(first)
	done.Add(first)
	start := make(chan struct{})
	seen := make([]*blocks, first)
	for g := range first {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			for range each {
				rsCellAdd(&o.c, 1)
			}
			seen[g] = o.c.blocks()
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	for g, s := range seen {
		if s != seen[0] || s == nil {
			t.Fatalf("goroutine %d sees memory %p, goroutine 0 %p: the zero cell was set up more than once", g, s, seen[0])
		}
	}
	if got := o.c.load(); got != first*each {
		t.Fatalf("after first use: sum %d, want %d", got, first*each)
	}

	var ran atomic.Int64
	ops := opsPerGoroutine() / 4
	hammer(t, func(int) {
		ran.Add(1)
		for range ops {
			rsCellAdd(&o.c, 1)
		}
	})
	if got, want := o.c.load(), first*each+ran.Load()*int64(ops); got != want {
		t.Fatalf("sum %d, want %d", got, want)
	}
}
