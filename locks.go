package rseq

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// Locks is a set of spinlocks, one per possible CPU (one 8-byte word in
// each CPU's block of a Slab). Lock takes the lock of the CPU the caller
// runs on, with a restartable sequence instead of an atomic instruction,
// and returns its index: the caller then works on that index's data (for
// example a per-CPU shard of a structure too large for one critical
// section), even if it migrates to another CPU meanwhile. Two goroutines
// never hold the same index at once; contention is limited to goroutines
// that ran on the same CPU, typically one preempted while holding it.
//
// Make one with NewLocks. Its memory returns to the slab on Close or when
// the Locks becomes unreachable. Every method called after Close panics.
type Locks struct {
	ref   Ref
	p     *PerCPU
	off   uintptr
	clean runtime.Cleanup
}

// NewLocks returns a set of unlocked locks in DefaultSlab(ByCPU). It
// panics if the slab cannot map memory.
func NewLocks() *Locks {
	return newLocks(allocDefault(1))
}

// NewLocksIn returns a set of unlocked locks whose words live in s (one
// per block: ByConcurrencyID gives one lock per concurrency id).
func NewLocksIn(s *Slab) (*Locks, error) {
	r, err := s.Alloc(1)
	if err != nil {
		return nil, err
	}
	return newLocks(r), nil
}

func newLocks(r Ref) *Locks {
	l := &Locks{ref: r, p: r.PerCPU(), off: r.Off()}
	l.clean = runtime.AddCleanup(l, freeRef, r)
	return l
}

// pc returns the locks' PerCPU, or panics after Close.
func (l *Locks) pc() *PerCPU {
	if l.p == nil {
		panic("rseq: Locks used after Close")
	}
	return l.p
}

// Len returns the number of locks (and of indices Lock may return).
func (l *Locks) Len() int { return l.pc().Len() }

// TryLock tries once to take the lock of the CPU the caller runs on. It
// returns that lock's index and true, or false if it is held.
func (l *Locks) TryLock() (int, bool) {
	_, at, r := l.pc().CompareAndSwap(Current, l.off, 0, 1)
	runtime.KeepAlive(l)
	return at, r == Committed
}

// Lock takes the lock of the CPU the caller runs on and returns its index,
// for Unlock. While that lock is held, the caller yields and tries again,
// on whichever CPU it then runs on.
func (l *Locks) Lock() int {
	for spins := 0; ; spins++ {
		if i, ok := l.TryLock(); ok {
			return i
		}
		// The holder is often a goroutine preempted on this CPU: let it
		// run, and back off to sleeping if it stays away long.
		if spins < 64 {
			runtime.Gosched()
		} else {
			time.Sleep(time.Duration(min(spins-63, 100)) * time.Microsecond)
		}
	}
}

// TryLockAt tries once to take lock i, from any CPU: for a goroutine that
// must visit every index's data (to combine per-CPU shards), where Lock
// only takes the lock of the CPU the caller runs on. It reports whether it
// took the lock; release it with Unlock(i). It is the slow path: where
// rseq is used it runs on the fallback, which fences every CPU
// (microseconds) and diverts their critical sections while it runs. It
// panics if i is out of range.
func (l *Locks) TryLockAt(i int) bool {
	if i < 0 || i >= l.p.Len() {
		panic(fmt.Sprintf("rseq: Locks.TryLockAt: index %d out of range [0, %d)", i, l.p.Len()))
	}
	// The fallback view acts on block i from anywhere; its compare and
	// store are safe beside the lockers' sections (fenced and diverted
	// meanwhile) and beside Unlock's atomic compare-and-swap (1 to 0,
	// while this stores only over a 0).
	_, _, r := l.p.fallbackView().CompareAndSwap(i, l.off, 0, 1)
	runtime.KeepAlive(l)
	return r == Committed
}

// LockAt takes lock i from any CPU, waiting while it is held (see
// TryLockAt: each try is slow). Release it with Unlock(i).
func (l *Locks) LockAt(i int) {
	for spins := 0; !l.TryLockAt(i); spins++ {
		if spins < 16 {
			runtime.Gosched()
		} else {
			time.Sleep(time.Duration(min(spins-15, 100)) * time.Microsecond)
		}
	}
}

// Unlock releases lock i (an index Lock returned). Any goroutine may call
// it, on any CPU. It panics if lock i is not held.
func (l *Locks) Unlock(i int) {
	if n := l.pc().Len(); i < 0 || i >= n {
		panic(fmt.Sprintf("rseq: Locks.Unlock: index %d out of range [0, %d)", i, n))
	}
	// An atomic compare-and-swap from any CPU is safe beside the lockers'
	// restartable sequences: they store to the word only when it is 0,
	// and this stores only when it is 1. It orders the holder's writes
	// before the release (a full barrier), and a locker's load of the 0
	// before its own reads.
	if !atomic.CompareAndSwapUint64(l.ref.word(i, 0), 1, 0) {
		panic(fmt.Sprintf("rseq: Locks.Unlock of unlocked lock %d", i))
	}
	runtime.KeepAlive(l)
}

// Close returns the locks' memory to its slab. No lock may be held, and
// Close must not run concurrently with another method; every method called
// afterwards panics. Closing twice does nothing.
func (l *Locks) Close() {
	if l.p == nil {
		return
	}
	l.clean.Stop()
	freeRef(l.ref)
	l.ref, l.p = Ref{}, nil
}
