package rseq

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// RWMutex is a reader/writer mutual exclusion lock, a drop-in replacement
// for sync.RWMutex, whose readers touch only their own CPU's memory: RLock
// and RUnlock each add 1 to a word of the caller's CPU (a restartable
// sequence, no atomic instruction where rseq is used) and read a shared
// word that only writers write. Readers on different CPUs share no cache
// line, so read-mostly locks scale with the number of CPUs. Writers pay for
// it: Lock fences every CPU (a membarrier system call, microseconds) and
// sums every CPU's counts.
//
// The zero RWMutex is unlocked and ready; its per-CPU memory (16 bytes per
// possible CPU, in DefaultSlab(ByCPU)) is allocated on first use and given
// back when the RWMutex becomes unreachable. An RWMutex must not be copied
// after first use. As with sync.RWMutex, a blocked Lock call excludes new
// readers from acquiring the lock, and a lock may be released by another
// goroutine than the one that acquired it.
//
// # Protocol
//
// Each CPU has two counts: readers that entered (lock) and readers that
// left (unlock), in one 16-byte object. Both only grow (modulo 2^64), and a
// reader may leave on another CPU than the one it entered on, so only the
// sums over CPUs mean something. The shared writer word w is nonzero from
// the moment a writer starts Lock until Unlock.
//
// Reader, RLock: add 1 to lock[this CPU], then load w. If w is 0, the read
// lock is held. Otherwise back out (add 1 to unlock[this CPU], wake the
// writer if it sleeps) and wait at the gate (below).
//
// Reader, RUnlock: add 1 to unlock[this CPU]; if w is nonzero, wake the
// writer if it sleeps.
//
// Writer, Lock: take wmu (writers queue there, fairly), store w = 1, then
// FenceAll. The fence is what makes the reader's "add, then load w" safe
// without atomic instructions (it is Dekker's pattern: each side stores,
// then loads what the other stored): after it, a reader's add that
// committed before the fence is visible to the writer, and a reader whose
// add commits after it loads w = 1 and backs out. Then wait until the
// readers have drained: sum every CPU's unlock counts U, then every CPU's
// lock counts plus the hand-off count H (below) as L. Every unlock read in
// U follows its lock, which is thus counted in L; every reader inside
// entered before the fence and is counted in L and not in U; so L == U
// proves that no reader is inside. (A single signed count per CPU would
// not do: a reader backing out can add +1 to a CPU already summed and -1
// to one not yet summed, and hide a reader that is inside.)
//
// Writer, Unlock: under the gate mutex, take the number of readers
// waiting at the gate, add it to H on their behalf (they now hold the read
// lock), clear w, and start a new gate generation, which releases them;
// then release wmu. The next writer therefore waits for the readers that
// waited for this one: readers cannot starve writers (w stops new
// readers), and writers cannot starve readers (readers blocked by one
// writer enter before the next).
//
// Gate: a blocked reader takes the gate mutex; if w is still set it
// registers as waiting and sleeps until the generation changes, then holds
// the read lock; if w was cleared meanwhile it retries from the top. A
// writer waiting for readers to drain sleeps on the gate too; readers that
// leave while w is set take the gate mutex and wake it.
//
// Where rseq is not used, the per-CPU adds are atomic read-modify-writes,
// the fence is not needed (atomics are sequentially consistent), and the
// same protocol holds.
type RWMutex struct {
	st atomic.Pointer[rwState]
}

type rwState struct {
	w      uint64 // writer word: nonzero while a writer locks or holds (first: 8-aligned)
	handed uint64 // readers admitted by writers' Unlock: part of the lock count

	p         *PerCPU
	lockOff   uintptr // per CPU: readers that entered
	unlockOff uintptr // per CPU: readers that left (lockOff + 8)
	ref       Ref
	clean     runtime.Cleanup

	wmu  sync.Mutex // among writers
	gate sync.Mutex // guards the fields below, and clearing w

	readers       sync.Cond // readers sleep here until gen changes
	writer        sync.Cond // the writer sleeps here until readers drain
	waiting       int       // readers asleep on readers in this generation
	gen           uint64    // writer releases
	writerWaiting bool      // the writer sleeps on writer
}

func (m *RWMutex) state() *rwState {
	if s := m.st.Load(); s != nil {
		return s
	}
	return m.init()
}

func (m *RWMutex) init() *rwState {
	r := allocDefault(2)
	s := &rwState{p: r.PerCPU(), lockOff: r.Off(), unlockOff: r.Off() + 8, ref: r}
	s.readers.L = &s.gate
	s.writer.L = &s.gate
	s.clean = runtime.AddCleanup(s, freeRef, r)
	if m.st.CompareAndSwap(nil, s) {
		return s
	}
	s.clean.Stop() // another goroutine initialised it first
	freeRef(r)
	return m.st.Load()
}

// RLock locks m for reading. It should not be used for recursive read
// locking: a blocked Lock call excludes new readers.
func (m *RWMutex) RLock() {
	s := m.state()
	for {
		if atomic.LoadUint64(&s.w) == 0 {
			s.p.Add(Current, s.lockOff, 1)
			if atomic.LoadUint64(&s.w) == 0 {
				break
			}
			s.p.Add(Current, s.unlockOff, 1) // back out
		}
		if s.waitWriter() {
			break // admitted by the writer's Unlock
		}
	}
	runtime.KeepAlive(s) // the counts must stay allocated during the adds
}

// TryRLock tries to lock m for reading and reports whether it succeeded. It
// fails, without waiting, while a writer holds or waits for the lock.
func (m *RWMutex) TryRLock() bool {
	s := m.state()
	ok := false
	if atomic.LoadUint64(&s.w) == 0 {
		s.p.Add(Current, s.lockOff, 1)
		if ok = atomic.LoadUint64(&s.w) == 0; !ok {
			s.p.Add(Current, s.unlockOff, 1) // back out
			s.wakeWriter()
		}
	}
	runtime.KeepAlive(s)
	return ok
}

// RUnlock undoes a single RLock call. It may run on another goroutine (and
// CPU) than the RLock. Unlike sync.RWMutex, RUnlock of an unlocked m is not
// detected here; the next Lock panics.
func (m *RWMutex) RUnlock() {
	s := m.st.Load()
	if s == nil {
		panic("rseq: RUnlock of unlocked RWMutex")
	}
	s.p.Add(Current, s.unlockOff, 1)
	if atomic.LoadUint64(&s.w) != 0 {
		s.wakeWriter()
	}
	runtime.KeepAlive(s)
}

// waitWriter blocks a reader that found w set, after it backed out. It
// returns true if the reader was admitted by the writer's Unlock (it holds
// the read lock), false if the writer was gone already (retry).
func (s *rwState) waitWriter() bool {
	s.gate.Lock()
	if s.writerWaiting {
		s.writer.Signal() // our back-out may be the one it waits for
	}
	if atomic.LoadUint64(&s.w) == 0 {
		s.gate.Unlock()
		return false
	}
	s.waiting++
	for g := s.gen; s.gen == g; {
		s.readers.Wait()
	}
	s.gate.Unlock()
	return true
}

// wakeWriter wakes the writer if it sleeps waiting for readers to drain.
func (s *rwState) wakeWriter() {
	s.gate.Lock()
	if s.writerWaiting {
		s.writer.Signal()
	}
	s.gate.Unlock()
}

// inside returns the number of readers holding the lock (lock count minus
// unlock count), read in the order the protocol needs: every unlock first,
// then every lock.
func (s *rwState) inside() int64 {
	var u, l uint64
	n := s.p.Len()
	for cpu := 0; cpu < n; cpu++ {
		u += s.p.Load(cpu, s.unlockOff)
	}
	for cpu := 0; cpu < n; cpu++ {
		l += s.p.Load(cpu, s.lockOff)
	}
	l += atomic.LoadUint64(&s.handed)
	in := int64(l - u)
	if in < 0 {
		panic("rseq: RUnlock of unlocked RWMutex")
	}
	return in
}

// Lock locks m for writing. If the lock is already locked for reading or
// writing, Lock blocks until the lock is available; from the moment it is
// called, new readers wait.
func (m *RWMutex) Lock() {
	s := m.state()
	s.wmu.Lock()
	atomic.StoreUint64(&s.w, 1)
	FenceAll()
	s.gate.Lock()
	for s.inside() != 0 {
		s.writerWaiting = true
		s.writer.Wait()
	}
	s.writerWaiting = false
	s.gate.Unlock()
	runtime.KeepAlive(s)
}

// TryLock tries to lock m for writing and reports whether it succeeded. It
// fails if a writer holds or waits for the lock or a reader holds it.
// Success costs as much as Lock (a fence of every CPU).
func (m *RWMutex) TryLock() bool {
	s := m.state()
	if atomic.LoadUint64(&s.w) != 0 || s.inside() != 0 || !s.wmu.TryLock() {
		return false
	}
	atomic.StoreUint64(&s.w, 1)
	FenceAll()
	s.gate.Lock()
	ok := s.inside() == 0
	s.gate.Unlock()
	if !ok {
		s.release() // readers that our flag stopped go in
	}
	runtime.KeepAlive(s)
	return ok
}

// Unlock unlocks m for writing. It panics if m is not locked for writing.
// As with sync.RWMutex, it may run on another goroutine than the Lock.
func (m *RWMutex) Unlock() {
	s := m.st.Load()
	if s == nil || atomic.LoadUint64(&s.w) == 0 {
		panic("rseq: Unlock of unlocked RWMutex")
	}
	s.release()
}

// release admits the readers waiting at the gate, clears w and lets the
// next writer in.
func (s *rwState) release() {
	s.gate.Lock()
	k := s.waiting
	s.waiting = 0
	atomic.AddUint64(&s.handed, uint64(k))
	atomic.StoreUint64(&s.w, 0)
	s.gen++
	s.gate.Unlock()
	if k > 0 {
		s.readers.Broadcast()
	}
	s.wmu.Unlock()
}

// RLocker returns a sync.Locker whose Lock and Unlock call m.RLock and
// m.RUnlock.
func (m *RWMutex) RLocker() sync.Locker { return (*rlocker)(m) }

type rlocker RWMutex

func (r *rlocker) Lock()   { (*RWMutex)(r).RLock() }
func (r *rlocker) Unlock() { (*RWMutex)(r).RUnlock() }
