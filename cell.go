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

// cellOwner owns a cell's word: a cleanup returns it to its slab once the
// owner, held only by its cell, is unreachable (the structure holding the
// cell is).
type cellOwner struct {
	ref   Ref
	clean runtime.Cleanup
}

// newCell returns a cell owning r's first word.
func newCell(r Ref) cell {
	own := &cellOwner{ref: r}
	own.clean = runtime.AddCleanup(own, freeRef, r)
	return cell{s: &r.PerCPU().s, off: r.Off(), own: own}
}

// freeRef returns an object to its slab; the cleanup of the structures
// that own one.
func freeRef(r Ref) { r.chunk.slab.Free(r) }

// closedCell is where a closed structure's cell points: lim 0 sends every
// add to the slow path, which panics with the structure's type.
type closedCell struct {
	b    blocks // first: the cell points here
	what string
}

// closedBlocks returns a marker for a closed structure of type what, to
// put where its blocks were: fast entry points see lim 0 and go to their
// slow paths, which panic (checkOpen).
func closedBlocks(what string) *blocks { return &(&closedCell{what: what}).b }

// checkOpen panics if s is a closed structure's marker: only those have no
// blocks.
func checkOpen(s *blocks) {
	if s.n == 0 {
		panic("rseq: " + (*closedCell)(unsafe.Pointer(s)).what + " used after Close")
	}
}

// blocks returns the cell's memory, nil while a zero cell has none. It
// panics if the cell's structure was closed.
func (c *cell) blocks() *blocks {
	s := (*blocks)(atomic.LoadPointer((*unsafe.Pointer)(unsafe.Pointer(&c.s))))
	if s != nil {
		checkOpen(s)
	}
	return s
}

// cellInit serializes the first use of zero cells.
var cellInit sync.Mutex

// init gives a zero cell a word of DefaultSlab(ByCPU). It publishes own
// and off before s, and rsCellAdd reads s before off, so a cell seen set
// is whole.
func (c *cell) init() *blocks {
	cellInit.Lock()
	defer cellInit.Unlock()
	if s := c.blocks(); s != nil {
		return s
	}
	n := newCell(allocDefault(1))
	c.own, c.off = n.own, n.off
	atomic.StorePointer((*unsafe.Pointer)(unsafe.Pointer(&c.s)), unsafe.Pointer(n.s))
	return n.s
}

// close marks the cell closed (every later use panics naming what) and
// returns its word to its slab. Closing a zero or closed cell only marks
// it.
func (c *cell) close(what string) {
	cellInit.Lock()
	defer cellInit.Unlock()
	s := (*blocks)(atomic.LoadPointer((*unsafe.Pointer)(unsafe.Pointer(&c.s))))
	atomic.StorePointer((*unsafe.Pointer)(unsafe.Pointer(&c.s)), unsafe.Pointer(closedBlocks(what)))
	if s != nil && s.n != 0 {
		c.own.clean.Stop()
		freeRef(c.own.ref)
	}
	c.own = nil
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
		s = c.init()
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
	runtime.KeepAlive(c.own) // the word must not be freed under the reads
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
