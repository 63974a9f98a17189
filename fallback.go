package rseq

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The fallback runs each primitive under a lock, with atomic loads and
// stores so that lock-free readers (and the race detector) see whole words.
// Same results as the engine, never wrong, slower.
//
// A process can mix the two paths: a thread that cannot register, or a test
// that forces the fallback, while other threads run sections on the same
// memory. A section reads fbActive after its start_ip and leaves with
// stDiverted if it is set; a fallback operation raises fbActive and then
// fences every CPU (membarrier RSEQ), so when it touches memory no section
// that could have missed the flag can still commit. Sections that start
// later divert into the fallback themselves. Without an engine there are no
// sections, and the fallback needs neither.
//
// The end of a fallback operation needs ordering too: it stores its
// result, unlocks, and lowers fbActive with an atomic add (a release). A
// section that then reads fbActive == 0 must also see the result, or it
// would commit over it. On x86-64 (TSO) loads are not reordered with older
// loads, so the section's later loads see it. On arm64 a plain load of
// fbActive would not order the section's data loads after it (they depend
// on it only through a branch): the arm64 sections load fbActive with a
// load-acquire (LDARW), which synchronizes with the release. The litmus
// test is written out in engine_linux_arm64.s.
//
// A fence that fails (membarrier refused after it was registered, e.g.
// ENOMEM) panics; fbEnter lowers fbActive again first, so a caller that
// recovers does not leave every later section diverted.

// fbActive counts fallback operations in progress. Read by assembly.
var fbActive int32

// fbSkipFence leaves the fence out of fbEnter. Only tests set it, to show
// that without the fence concurrent sections lose updates (and so that the
// tests can see it).
var fbSkipFence bool

// fbLocks serialize fallback operations on one block of memory.
var fbLocks [64]struct {
	sync.Mutex
	_ [56]byte
}

// fbLock picks a block's lock by a multiplicative hash of its cache line,
// so blocks a page (or any power of two) apart spread over the locks.
func fbLock(block unsafe.Pointer) *sync.Mutex {
	h := uint64(uintptr(block)>>6) * 0x9E3779B97F4A7C15
	return &fbLocks[h>>58].Mutex // 64 locks: the top 6 bits
}

// fbEnter starts a fallback operation on block, after which no critical
// section can commit until fbExit.
func fbEnter(block unsafe.Pointer) *sync.Mutex {
	if engineOn {
		fbRaise()
	}
	mu := fbLock(block)
	mu.Lock()
	return mu
}

// fbRaise raises fbActive and fences every CPU; if the fence panics, it
// lowers fbActive before the panic goes on.
func fbRaise() {
	atomic.AddInt32(&fbActive, 1)
	if fbSkipFence {
		return
	}
	fenced := false
	defer func() {
		if !fenced {
			atomic.AddInt32(&fbActive, -1)
		}
	}()
	fenceAll()
	fenced = true
}

func fbExit(mu *sync.Mutex) {
	mu.Unlock()
	if engineOn {
		atomic.AddInt32(&fbActive, -1)
	}
}

// fbIndex picks the index a fallback operation works on when the caller
// did not name one: the current P's, spread over n.
func fbIndex(n uintptr) int {
	p := procPin()
	procUnpin()
	return int(uintptr(p) % n)
}

func (s *blocks) block(i int) unsafe.Pointer {
	return unsafe.Add(s.base, uintptr(i)*s.stride)
}

func word(block unsafe.Pointer, off uintptr) *uint64 {
	return (*uint64)(unsafe.Add(block, off))
}

func (s *blocks) fbAt(want int) (int, unsafe.Pointer) {
	i := want
	if i < 0 {
		i = fbIndex(s.n)
	}
	return i, s.block(i)
}

func fbAdd(s *blocks, want int, off uintptr, delta uint64) (uint64, int, int) {
	i, b := s.fbAt(want)
	mu := fbEnter(b)
	v := atomic.AddUint64(word(b, off), delta)
	fbExit(mu)
	return v, i, stCommitted
}

func fbCAS(s *blocks, want int, off uintptr, old, nv uint64) (uint64, int, int) {
	i, b := s.fbAt(want)
	mu := fbEnter(b)
	defer fbExit(mu)
	w := word(b, off)
	if v := atomic.LoadUint64(w); v != old {
		return v, i, stFailed
	}
	atomic.StoreUint64(w, nv)
	return old, i, stCommitted
}

func fbCAS2(s *blocks, want int, off uintptr, old, nv uint64, guard *uint64, gval uint64) (uint64, int, int) {
	i, b := s.fbAt(want)
	mu := fbEnter(b)
	defer fbExit(mu)
	w := word(b, off)
	v := atomic.LoadUint64(w)
	if v != old || atomic.LoadUint64(guard) != gval {
		return v, i, stFailed
	}
	atomic.StoreUint64(w, nv)
	return v, i, stCommitted
}

func fbPop(s *blocks, want int, off, arrOff, capacity uintptr) (uint64, int, int) {
	i, b := s.fbAt(want)
	mu := fbEnter(b)
	defer fbExit(mu)
	cnt := word(b, off)
	c := atomic.LoadUint64(cnt)
	switch {
	case c == 0:
		return 0, i, stFailed
	case c > uint64(capacity):
		return c, i, stCorrupt
	}
	v := atomic.LoadUint64(word(b, arrOff+uintptr(c-1)*8))
	atomic.StoreUint64(cnt, c-1)
	return v, i, stCommitted
}

func fbPush(s *blocks, want int, off, arrOff, capacity uintptr, v uint64) (uint64, int, int) {
	i, b := s.fbAt(want)
	mu := fbEnter(b)
	defer fbExit(mu)
	cnt := word(b, off)
	c := atomic.LoadUint64(cnt)
	switch {
	case c > uint64(capacity):
		return c, i, stCorrupt
	case c == uint64(capacity):
		return c, i, stFailed
	}
	atomic.StoreUint64(word(b, arrOff+uintptr(c)*8), v)
	atomic.StoreUint64(cnt, c+1)
	return c + 1, i, stCommitted
}

func fbCopy(s *blocks, want int, off uintptr, expect uint64, dstOff uintptr, src []byte, nv uint64) (uint64, int, int) {
	i, b := s.fbAt(want)
	mu := fbEnter(b)
	defer fbExit(mu)
	w := word(b, off)
	if v := atomic.LoadUint64(w); v != expect {
		return v, i, stFailed
	}
	copy(unsafe.Slice((*byte)(unsafe.Add(b, dstOff)), len(src)), src)
	atomic.StoreUint64(w, nv)
	return expect, i, stCommitted
}

func fbFloatAdd(s *blocks, off uintptr, v float64) {
	_, b := s.fbAt(Current)
	mu := fbEnter(b)
	w := word(b, off)
	atomic.StoreUint64(w, math.Float64bits(math.Float64frombits(atomic.LoadUint64(w))+v))
	fbExit(mu)
}
