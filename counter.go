package rseq

import (
	"runtime"
	"strconv"
	"sync"
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
// Make one with NewCounter or NewCounterIn. Its memory returns to the slab
// when Close is called, or when the Counter becomes unreachable. Counter
// implements expvar.Var. All methods but Close are safe for concurrent use.
type Counter struct {
	ref   Ref
	p     *PerCPU
	off   uintptr
	drain sync.Mutex // orders Drain and Reset among themselves
	clean runtime.Cleanup
}

// NewCounter returns a zero Counter in DefaultSlab(ByCPU). It panics if
// the slab cannot map memory.
func NewCounter() *Counter {
	return newCounter(allocDefault(1))
}

// NewCounterIn returns a zero Counter whose word lives in s.
func NewCounterIn(s *Slab) (*Counter, error) {
	r, err := s.Alloc(1)
	if err != nil {
		return nil, err
	}
	return newCounter(r), nil
}

func newCounter(r Ref) *Counter {
	c := &Counter{ref: r, p: r.PerCPU(), off: r.Off()}
	c.clean = runtime.AddCleanup(c, freeRef, r)
	return c
}

// freeRef returns an object to its slab; the cleanup of the structures
// that own one.
func freeRef(r Ref) { r.chunk.slab.Free(r) }

// Add adds delta to the counter.
func (c *Counter) Add(delta int64) {
	c.p.Add(Current, c.off, delta)
	runtime.KeepAlive(c) // the word must not be freed under the operation
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
	var s int64
	for cpu := 0; cpu < c.p.Len(); cpu++ {
		s += int64(c.p.Load(cpu, c.off))
	}
	runtime.KeepAlive(c)
	return s
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

// Close returns the counter's memory to its slab. The Counter must not be
// used afterwards, and Close must not run concurrently with another method.
// Close is optional: an unreachable Counter's memory is returned by the
// garbage collector. Closing twice does nothing.
func (c *Counter) Close() {
	if c.p == nil {
		return
	}
	c.clean.Stop()
	freeRef(c.ref)
	c.ref, c.p = Ref{}, nil
}
