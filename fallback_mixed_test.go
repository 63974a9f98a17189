package rseq

import (
	"sync/atomic"
	"testing"
)

// TestMixedPaths runs the fallback and the engine on the same memory at the
// same time (as when one thread cannot register): the fallback diverts and
// fences the sections, so the sum stays exact.
func TestMixedPaths(t *testing.T) {
	p := newTestPerCPU(t, 64, ByCPU)
	ops := opsPerGoroutine() / 10
	var fbOps atomic.Int64
	var ngo atomic.Int64
	hammer(t, func(g int) {
		ngo.Add(1)
		for i := 0; i < ops; i++ {
			if g%2 == 0 && i%4 == 0 {
				// aim at another CPU's block: the one where sections run now
				fbAdd(&p.s, (CPU()+1)%p.Len(), 0, 1)
				fbOps.Add(1)
				continue
			}
			p.Add(Current, 0, 1)
		}
	})
	if got, want := sum(p, 0), uint64(ngo.Load())*uint64(ops); got != want {
		t.Fatalf("sum %d, want %d (%d through the fallback)", got, want, fbOps.Load())
	}
}
