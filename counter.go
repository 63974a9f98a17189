package rseq

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// Counter is an int64 counter for many writers: each Add touches only the
// calling CPU's word (8 bytes in a Slab block, sharing that CPU's cache
// lines with other per-CPU objects), without atomic instructions where
// rseq is used. Reading sums the words of every possible CPU, so Counter
// suits values written far more often than read: statistics, metrics.
//
// A gauge that goes up and down (requests in flight, open connections) is
// a Counter too: Add(1) on the way in, Add(-1) (Dec) on the way out; the
// sum of the words is the gauge's value. There is no Set: setting a value
// would have to write every CPU's word at one instant, which per-CPU words
// cannot do against concurrent Adds. A Set built from Drain and Add would
// keep some concurrent Adds and drop others in an order no single Set
// could explain (Load is not a snapshot). Drain returns a gauge to zero
// without losing a concurrent Add. A value that is only ever set (a
// temperature, a sampled queue length) is better kept in one atomic word:
// every write of it would touch all CPUs' words anyway.
//
// The zero Counter is zero and ready to use, like atomic.Int64 (var hits
// rseq.Counter; hits.Inc()): its word is allocated in DefaultSlab(ByCPU)
// by the first Add. NewCounter and NewCounterIn allocate it at once (in a
// slab of the caller's choice). Its memory returns to the slab when Close
// is called, or when the Counter becomes unreachable. A Counter must not be
// copied after first use. Counter implements expvar.Var.
//
// All methods but Close are safe for concurrent use. Close must not run
// concurrently with another method; any method called after Close panics.
type Counter struct {
	st    atomic.Pointer[counterState] // nil: zero, not allocated yet; &counterClosed: closed
	drain sync.Mutex                   // orders Drain and Reset among themselves
}

// counterState is a Counter's word: a copy of its chunk's PerCPU (one load
// fewer on the hot path than a pointer to it) and the offset.
type counterState struct {
	p     PerCPU
	off   uintptr
	ref   Ref
	clean runtime.Cleanup
}

// counterClosed is the state of every closed Counter.
var counterClosed counterState

// NewCounter returns a zero Counter in DefaultSlab(ByCPU). It panics if
// the slab cannot map memory.
func NewCounter() *Counter {
	c := new(Counter)
	c.st.Store(newCounterState(allocDefault(1)))
	return c
}

// NewCounterIn returns a zero Counter whose word lives in s.
func NewCounterIn(s *Slab) (*Counter, error) {
	r, err := s.Alloc(1)
	if err != nil {
		return nil, err
	}
	c := new(Counter)
	c.st.Store(newCounterState(r))
	return c, nil
}

// newCounterState owns r: a cleanup frees it once the state (held only by
// its Counter) is unreachable.
func newCounterState(r Ref) *counterState {
	s := &counterState{p: *r.PerCPU(), off: r.Off(), ref: r}
	s.clean = runtime.AddCleanup(s, freeRef, r)
	return s
}

// freeRef returns an object to its slab; the cleanup of the structures
// that own one.
func freeRef(r Ref) { r.chunk.slab.Free(r) }

// state returns the counter's word, allocating it for a zero Counter. It
// panics after Close. Not inlined: the hot path only calls it when the
// counter is zero or closed.
func (c *Counter) state() *counterState {
	s := c.st.Load()
	if s == &counterClosed {
		panic("rseq: Counter used after Close")
	}
	if s != nil {
		return s
	}
	s = newCounterState(allocDefault(1))
	if c.st.CompareAndSwap(nil, s) {
		return s
	}
	s.clean.Stop() // another goroutine allocated it first, or Close ran
	freeRef(s.ref)
	return c.state()
}

// Add adds delta to the counter.
func (c *Counter) Add(delta int64) {
	s := c.st.Load()
	if s == nil || s == &counterClosed {
		s = c.state()
	}
	s.p.Add(Current, s.off, delta)
	runtime.KeepAlive(s) // the word must not be freed under the operation
}

// Inc adds 1 to the counter.
func (c *Counter) Inc() { c.Add(1) }

// Dec subtracts 1 from the counter.
func (c *Counter) Dec() { c.Add(-1) }

// Load returns the sum of every CPU's word. It is not a snapshot: the words
// are read one after another while Adds go on, so with concurrent Adds the
// result may be a value the counter never held at any single instant (it
// counts some concurrent Adds and not others). With no concurrent Adds it
// is exact.
func (c *Counter) Load() int64 {
	s := c.st.Load()
	if s == nil {
		return 0 // a zero Counter: nothing added yet
	}
	if s == &counterClosed {
		c.state() // panics
	}
	var sum int64
	for cpu := 0; cpu < s.p.Len(); cpu++ {
		sum += int64(s.p.Load(cpu, s.off))
	}
	runtime.KeepAlive(s)
	return sum
}

// Drain returns the counter's value and subtracts it, so that the counter
// restarts from zero, without losing an Add that runs concurrently: every
// Add is returned by exactly one Drain or stays in the counter. (Drain sums
// the CPUs' words as Load does, then adds minus that sum on the current
// CPU; since only the sum matters, an Add that the read missed stays
// counted.) Drains and Resets are serialized among themselves.
func (c *Counter) Drain() int64 {
	c.drain.Lock()
	defer c.drain.Unlock()
	v := c.Load()
	if v != 0 {
		c.Add(-v)
	}
	return v
}

// Reset sets the counter to zero; Adds that run concurrently may be kept
// or dropped. It is Drain without the result.
func (c *Counter) Reset() { c.Drain() }

// String returns the counter's value (Load) in decimal: Counter is an
// expvar.Var.
func (c *Counter) String() string { return strconv.FormatInt(c.Load(), 10) }

// Close returns the counter's memory to its slab. Close is optional: an
// unreachable Counter's memory is returned by the garbage collector. It
// must not run concurrently with another method (an Add that runs during
// Close may write into the freed word, which the slab may have handed to
// another object); every method called after it panics. Closing twice, or
// closing a zero Counter, does nothing but mark it closed.
func (c *Counter) Close() {
	s := c.st.Swap(&counterClosed)
	if s == nil || s == &counterClosed {
		return
	}
	s.clean.Stop()
	freeRef(s.ref)
}
