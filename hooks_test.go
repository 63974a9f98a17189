package rseq

import (
	"github.com/gorseq/rseq/internal/hooks"

	"sync/atomic"
	"testing"
)

// TestFallbackViews: goroutines on the fallback views and on the engine
// share the same memory and stay exact; a view answers no NotOnCPU.
func TestFallbackViews(t *testing.T) {
	p := newTestPerCPU(t, 64, ByCPU)
	f := p.fallbackView()
	if !f.fallback || p.fallback {
		t.Fatalf("view fallback=%v, original fallback=%v", f.fallback, p.fallback)
	}
	ops := opsPerGoroutine() / 40
	var ngo atomic.Int64
	hammer(t, func(g int) {
		ngo.Add(1)
		v := p
		if g%4 == 0 {
			v = f
		}
		for i := 0; i < ops; i++ {
			v.Add(Current, 0, 1)
		}
	})
	if got, want := sum(p, 0), uint64(ngo.Load())*uint64(ops); got != want {
		t.Fatalf("sum %d, want %d", got, want)
	}
	// The view acts on any block from anywhere.
	for i := 0; i < p.Len(); i++ {
		if _, at, r := f.Add(i, 8, 1); r != Committed || at != i {
			t.Fatalf("view Add(%d): at %d, %v", i, at, r)
		}
	}
	before := hooks.Aborts()
	if after := hooks.Aborts(); after < before {
		t.Fatalf("Aborts went back from %d to %d", before, after)
	}
	if v, ok := hooks.Fallback(p).(*PerCPU); !ok || !v.fallback {
		t.Fatalf("hooks.Fallback(*PerCPU) = %T", hooks.Fallback(p))
	}
}

func TestLocksAndFreeListViews(t *testing.T) {
	l := NewLocks()
	defer l.Close()
	lv := l.fallbackView()
	i := lv.Lock()
	l.Unlock(i) // a lock taken through the view is released through l

	fl, err := NewFreeList(4)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	fv := fl.fallbackView()
	for h := uint32(0); h < 20; h++ {
		fv.Put(h)
	}
	seen := map[uint32]int{}
	for _, x := range []*FreeList{fl, fv} {
		for {
			h, ok := x.Get()
			if !ok {
				break
			}
			seen[h]++
		}
	}
	for h := uint32(0); h < 20; h++ {
		if seen[h] != 1 {
			t.Fatalf("handle %d seen %d times", h, seen[h])
		}
	}
}
