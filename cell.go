package rseq

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A cell (abi.go) is one word of per-CPU memory updated by one add: the
// hot path of Counter and of every structure that only counts. rsCellAdd
// is one call, so the method that makes it inlines; everything it cannot
// do goes on here.

// The arm64 rsCellAdd loads c.s with LDAR, which takes no offset.
var _ = [1]struct{}{}[unsafe.Offsetof(cell{}.s)]

// cellFor returns the cell of the object r names (its first word).
func cellFor(r Ref) cell {
	return cell{s: &r.PerCPU().s, off: r.Off()}
}

// blocks returns the cell's memory, nil while a zero cell has none.
func (c *cell) blocks() *blocks {
	return (*blocks)(atomic.LoadPointer((*unsafe.Pointer)(unsafe.Pointer(&c.s))))
}

// cellInit serializes the first use of zero cells.
var cellInit sync.Mutex

// init gives a zero cell a word of DefaultSlab(ByCPU), returned to the
// slab when the object holding the cell becomes unreachable (owner:
// a pointer into it, usually the cell itself). It publishes off before s,
// and rsCellAdd reads s before off, so a cell seen set is whole.
func (c *cell) init(owner unsafe.Pointer) *blocks {
	cellInit.Lock()
	defer cellInit.Unlock()
	if s := c.blocks(); s != nil {
		return s
	}
	r := allocDefault(1)
	c.off = r.Off()
	s := &r.PerCPU().s
	atomic.StorePointer((*unsafe.Pointer)(unsafe.Pointer(&c.s)), unsafe.Pointer(s))
	runtime.AddCleanup((*byte)(owner), freeRef, r)
	return s
}

// cellAddSlow is rsCellAdd's slow path (the assembly jumps here with its
// own arguments): a zero cell gets its word, aborted sections are retried,
// threads register, and memory the engine does not run on, or a running
// fallback operation, takes the fallback.
func cellAddSlow(c *cell, delta uint64) { cellAddRetry(c, delta) }

// cellAddAborted is cellAddSlow for a section the kernel aborted (its
// abort handler jumps here): count the abort, then the same.
func cellAddAborted(c *cell, delta uint64) {
	aborts.Add(1)
	cellAddRetry(c, delta)
}

func cellAddRetry(c *cell, delta uint64) {
	s := c.blocks()
	if s == nil {
		s = c.init(unsafe.Pointer(c))
	}
	if s.lim != 0 {
		for {
			_, _, st := rsAdd(s, Current, c.off, delta)
			if st == stCommitted {
				return
			}
			if !retryable(st) {
				break
			}
		}
	}
	fbAdd(s, Current, c.off, delta)
}

// load sums the cell's word over every block (0 for a zero cell).
func (c *cell) load() int64 {
	s := c.blocks()
	if s == nil {
		return 0
	}
	var sum uint64
	for i := range int(s.n) {
		sum += atomic.LoadUint64(word(s.block(i), c.off))
	}
	return int64(sum)
}

// floatAddSlow is rsFloatAdd's slow path: on memory sections run on, a
// compare-and-swap of the float's bits in a section, retried with the
// value found (a migrated section fails and reports the other CPU's
// word); elsewhere the fallback.
func floatAddSlow(s *blocks, off uintptr, v float64) { floatAddRetry(s, off, v) }

// floatAddAborted is floatAddSlow for a section the kernel aborted.
func floatAddAborted(s *blocks, off uintptr, v float64) {
	aborts.Add(1)
	floatAddRetry(s, off, v)
}

func floatAddRetry(s *blocks, off uintptr, v float64) {
	if s.lim != 0 {
		var old uint64
		for {
			seen, _, st := rsCAS(s, Current, off, old, math.Float64bits(math.Float64frombits(old)+v))
			switch st {
			case stCommitted:
				return
			case stFailed:
				old = seen
				continue
			}
			if !retryable(st) {
				break
			}
		}
	}
	fbFloatAdd(s, off, v)
}
