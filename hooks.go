package rseq

import (
	"fmt"
	"runtime"

	"github.com/gorseq/rseq/internal/hooks"
)

// Hooks for torture tests and benchmarks (cmd/rseq's stress and bench
// commands): ways to force the fallback path on some goroutines while
// others run critical sections on the same memory, and the abort count that
// shows the kernel restarted sections. Programs have no need for them, so
// they are not exported: the commands reach them through internal/hooks.

func init() {
	hooks.Aborts = aborts.Load
	hooks.Fallback = func(x any) any {
		switch v := x.(type) {
		case *PerCPU:
			return v.fallbackView()
		case *Locks:
			return v.fallbackView()
		case *FreeList:
			return v.fallbackView()
		}
		panic(fmt.Sprintf("rseq: no fallback view of %T", x))
	}
}

// fallbackView returns a view of the same memory whose operations always take
// the lock-based fallback path, as a thread that cannot register would.
// Operations through the view and through p mix safely (the fallback
// diverts and fences the critical sections), at the fallback's cost: each
// operation fences every CPU when rseq is in use. With an explicit index
// the view never answers NotOnCPU: it acts on that block from anywhere.
func (p *PerCPU) fallbackView() *PerCPU {
	v := *p
	v.fallback = true
	v.s.lim = 0 // no sections on this view
	return &v
}

// fallbackView returns a view of the same locks whose Lock and TryLock always
// take the fallback path. Locks taken through either may be released
// through either. The view keeps l alive; do not Close the view (Close l).
func (l *Locks) fallbackView() *Locks {
	v := &Locks{ref: l.ref, p: l.p.fallbackView(), off: l.off}
	runtime.AddCleanup(v, func(*Locks) {}, l) // l lives as long as v
	return v
}

// fallbackView returns a view of the list that shares its per-CPU caches but
// whose cache operations always take the fallback path. The view has its
// own shared overflow stack: a handle Put through the view when the cache
// is full waits there for a Get through the view, and a Get through one of
// them may report empty while the other's stack holds handles. Drain both
// to collect every handle. The view keeps f alive; do not Close the view
// (Close f).
func (f *FreeList) fallbackView() *FreeList {
	p := f.p.fallbackView()
	v := &FreeList{
		stk:      stack{s: &p.s, countOff: f.countOff, arrOff: f.arrOff, capacity: uintptr(f.capacity)},
		ref:      f.ref,
		p:        p,
		countOff: f.countOff,
		arrOff:   f.arrOff,
		capacity: f.capacity,
		batch:    f.batch,
	}
	v.hookShared()
	runtime.AddCleanup(v, func(*FreeList) {}, f) // f lives as long as v
	return v
}
