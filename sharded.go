package rseq

import (
	"iter"
)

// shardPad separates consecutive shards: two cache lines, so that neither
// a shared line nor the adjacent-line prefetcher couples two CPUs' values.
const shardPad = 128

// Sharded holds one T per possible CPU, on the Go heap (so T may hold
// pointers, maps, slices), each padded against false sharing: the shape
// Go's proposal for sharded values (golang/go#18802) asks for. Update runs
// a function on the value of the CPU the caller runs on, under that CPU's
// lock (a Locks), so updates from different CPUs never contend; All visits
// every value, each under its lock, to combine them.
//
// Update's function must be short and must not block: it runs holding the
// CPU's lock, and a goroutine that lands on that CPU meanwhile waits for
// it (yielding, then sleeping). It must not call Update or All on the same
// Sharded (it would wait for the lock it holds), nor keep the pointer
// after it returns. It may be preempted or migrate (the lock stays with it
// and protects the value all the same), allocate, and update other
// structures.
//
// A T starts as its zero value; initialize lazily inside Update (if v.m ==
// nil { v.m = make(...) }). Make one with NewSharded. Update and All are
// safe for concurrent use.
type Sharded[T any] struct {
	locks  *Locks
	shards []shardOf[T]
}

type shardOf[T any] struct {
	_ [shardPad]byte
	v T
	_ [shardPad]byte
}

// NewSharded returns a Sharded of zero Ts, one per lock of a new Locks in
// DefaultSlab(ByCPU) (PossibleCPUs()). It panics if the slab cannot map
// memory.
func NewSharded[T any]() *Sharded[T] {
	l := NewLocks()
	return &Sharded[T]{locks: l, shards: make([]shardOf[T], l.Len())}
}

// Len returns the number of values (PossibleCPUs() at creation).
func (s *Sharded[T]) Len() int { return len(s.shards) }

// Update calls f with the value of the CPU the caller runs on, holding
// that CPU's lock until f returns (or panics). See Sharded for what f may
// do.
func (s *Sharded[T]) Update(f func(*T)) {
	i := s.locks.Lock()
	defer s.locks.Unlock(i)
	f(&s.shards[i].v)
}

// All returns an iterator over every value with its index, each visited
// holding its lock: no Update changes a value while the loop body has it.
// The loop body must be short, must not call Update or All on the same
// Sharded, and must not keep the pointer. Taking another CPU's lock is the
// slow path (see Locks.TryLockAt: a fence of every CPU per value where
// rseq is used), so All suits reads (metrics scrapes), not hot loops.
//
// A typical use sums the values:
//
//	var total int64
//	for _, v := range s.All() {
//		total += v.n
//	}
func (s *Sharded[T]) All() iter.Seq2[int, *T] {
	return func(yield func(int, *T) bool) {
		for i := range s.shards {
			if !s.visit(i, yield) {
				return
			}
		}
	}
}

func (s *Sharded[T]) visit(i int, yield func(int, *T) bool) bool {
	s.locks.LockAt(i)
	defer s.locks.Unlock(i)
	return yield(i, &s.shards[i].v)
}
