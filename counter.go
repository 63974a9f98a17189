package rseq

import (
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
	c     cell       // first, the hot path's argument; zero until the first Add
	drain sync.Mutex // orders Drain and Reset among themselves
}

// NewCounter returns a zero Counter in DefaultSlab(ByCPU). It panics if
// the slab cannot map memory.
func NewCounter() *Counter {
	return &Counter{c: newCell(allocDefault(1))}
}

// NewCounterIn returns a zero Counter whose word lives in s.
func NewCounterIn(s *Slab) (*Counter, error) {
	r, err := s.Alloc(1)
	if err != nil {
		return nil, err
	}
	return &Counter{c: newCell(r)}, nil
}

// Add adds delta to the counter: one call (rsCellAdd), so Add inlines. A
// zero Counter gets its word on the first Add; after Close, Add panics.
func (c *Counter) Add(delta int64) {
	rsCellAdd(&c.c, uint64(delta))
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
func (c *Counter) Load() int64 { return c.c.load() }

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
func (c *Counter) Close() { c.c.close("Counter") }
