package rseq

import (
	"math"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// # Protocol
//
// An RWMutex is reader-biased with revocation, after BRAVO (Dice and
// Kogan, "BRAVO: Biased Locking for Reader-Writer Locks", USENIX ATC
// 2019), with per-CPU counts where BRAVO has a table of visible readers,
// and with a bias policy of its own (below).
//
// State. m.rw, a sync.RWMutex, is the writers' lock, and the readers' lock
// while the mutex is not biased. m.mode says how readers get in:
//
//	check (0, the zero value)  as unbiased; the next reader to arrive
//	                           decides whether to bias (policy, below)
//	plain                      readers take m.rw, for good (the bias is not
//	                           allowed: no rseq)
//	unbiased                   readers take m.rw (the inhibit window)
//	biased                     readers count themselves in per-CPU memory
//	revoking                   a writer is taking the bias back: readers
//	                           inside leave through the per-CPU counts,
//	                           new ones go to m.rw (which the writer holds)
//
// The ledger, allocated the first time the mutex is biased and kept until
// the mutex is unreachable, is a 4-word object of DefaultSlab(ByCPU): per
// CPU, lock (readers that entered there), unlock (readers that left
// there), base (a hint for misuse detection, below) and a spare word. lock
// and unlock only grow (modulo 2^64); a reader may leave on another CPU
// than the one it entered on, so only the sums over CPUs mean something.
//
// Invariant I: m.mode moves between the unbiased side {check, plain, unbiased}
// and the biased side {biased, revoking} only while m.rw is held for
// writing and no reader holds the lock, of either kind:
//   - bias (unbiased side -> biased) runs under m.rw.Lock: no m.rw reader
//     holds, and no per-CPU reader does (none validates while mode is not
//     biased, below);
//   - revoke (biased -> revoking -> unbiased) runs under m.rw.Lock and
//     stores unbiased only after the ledger showed no per-CPU reader inside;
//   - a TryLock that finds a reader inside goes back revoking -> biased;
//     the policy moves unbiased <-> check: each stays on its side.
// So for a goroutine that holds the read lock, mode is on the biased side
// exactly when its read lock is a per-CPU one, and RUnlock tells which kind
// to release by loading mode, without a token (sync.RWMutex's API has
// none, so a reader cannot carry one from RLock to RUnlock as BRAVO's do).
//
// Reader, RLock. If mode is biased: add 1 to lock[this CPU] (PerCPU.Add, a
// restartable sequence), then load mode. Still biased: the read lock is
// held ("validated"). Otherwise back out: add 1 to unlock[this CPU] and, if
// mode is revoking, wake the writer (this back-out may be what it waits
// for). If mode is on the unbiased side: m.rw.RLock, then load mode, which
// cannot cross sides while we hold m.rw (I). Unbiased side: the read lock
// is held. Biased side (biased meanwhile): m.rw.RUnlock and take the
// per-CPU path.
//
// Reader, RUnlock. Load mode. Biased side: add 1 to unlock[this CPU], then
// if mode is revoking wake the writer. Unbiased side: m.rw.RUnlock.
//
// Writer, Lock: m.rw.Lock (which excludes the m.rw readers and the other
// writers, and makes new m.rw readers wait), note the write (m.wrote: a
// load, and a store once per window), then, if mode is biased, revoke:
// store mode = revoking, FenceAll, and wait until the ledger shows no
// reader inside: sum every CPU's unlock counts U, then every CPU's lock
// counts L; L == U means none is inside. Then mode = unbiased, and the
// inhibit window starts. Unlock: m.rw.Unlock. While the mutex is unbiased a
// writer is sync.RWMutex's writer plus two loads: no fence, no per-CPU
// memory.
//
// Why a reader that validated is seen by the revoking writer. The reader
// stores (its add) then loads mode; the writer stores mode then loads the
// counts: Dekker's pattern, which needs a store-load barrier on each side.
// FenceAll (membarrier RSEQ) is the reader's: it returns only after every
// CPU running a thread of the process has passed a full barrier, and it
// aborts a section in progress there, which restarts from the top after
// the barrier. So the reader's add commits either before its CPU's barrier,
// and the writer's loads after FenceAll see it, or after it, and then the
// reader's later load of mode (program order, after the commit) sees
// revoking. (On x86-64 the barrier is what drains a commit still in the
// store buffer while the reader's load of mode goes ahead; the writer's
// side is its seq-cst store.) A reader that validated is therefore counted
// in L, and its RUnlock adds to U later: the writer waits for it. Why
// L == U proves no reader inside: every unlock the writer read in U
// follows its lock (same reader), which committed earlier and is thus in
// L, read after U; a reader inside is in L and not in U. (One signed count
// per CPU would not do: a reader backing out can add to a CPU already
// summed and take from one not yet summed, and hide a reader that is
// inside.)
//
// Late adders. A reader can load mode = biased, be preempted, and commit
// its add after the revocation finished. It then loads mode: on the
// unbiased side it backs out (its add and back-out balance, whatever CPUs
// they land on); if the mutex was biased again in between, it holds a
// per-CPU read lock of the new biased period, legitimately: its data loads
// come after that load of mode, so after the re-bias, which took m.rw.Lock
// after the previous writer's Unlock; and the next revoking writer counts
// it by the argument above. The ledger is never reset or freed while the
// mutex is reachable, so a late add always lands in the ledger that counts.
//
// Waiting for readers to drain uses the ledger's gate (a mutex and a
// condition variable), only during a revocation: the writer checks L == U
// under the gate and sleeps; a reader that leaves (or backs out) while
// mode is revoking takes the gate and signals. A reader whose unlock the
// writer's check missed takes the gate after the writer started to sleep,
// and wakes it: no lost wake-up.
//
// Fairness is sync.RWMutex's. A revoking writer holds m.rw, so new readers
// queue on m.rw behind it (readers cannot starve writers); sync.RWMutex
// admits the readers that queued behind one writer before the next writer
// (writers cannot starve readers). The policy decision below is taken by a
// reader before it holds anything, so a reader admitted by a writer's
// Unlock never gives its place up.
//
// Bias policy. A revocation costs a fence of every CPU (microseconds) and
// stalls the readers meanwhile; the per-CPU path saves some nanoseconds
// per read. BRAVO keeps the bias off for N times what the last revocation
// cost (the inhibit window), so that revocations take at most about 1/N
// of the time. Here the window (rwWindow) is rwWindowFactor (16) times
// what a bias cycle costs: the revocation's fence and first count scan,
// plus the bias it ended (its m.rw.Lock wait included), estimated by
// rwCost (one outlier, a thread preempted in the middle, counts at most 4
// times the previous estimate), and at least rwWindowMin (20µs). It
// doubles, up to rwWindowGrowth (64) times that, each time a bias was
// revoked before it had lasted as long as the window before it (it did
// not pay for its revocation), and falls back to the base when one did.
//
// The window ends at l.deadline. One read in rwPollEvery (256) on the
// unbiased side, picked by the runtime's per-thread generator (cheaprand,
// a few instructions), reads the clock before taking m.rw; past the
// deadline it moves mode unbiased -> check. (A timer would need no work
// from readers, but a Go timer fires only when a P schedules, which a
// program whose Ps all run goroutines that never block does once per
// preemption quantum, 10ms: a read phase would lose that much.) A reader
// that finds check, before it holds anything, wins the check -> unbiased
// compare-and-swap and decides: if a writer came since the window started
// (m.wrote, which Lock sets with one load and, once per window, one store)
// the bias stays off and a new window starts; if none did, it biases:
// m.rw.Lock (not a write), mode = biased, m.rw.Unlock, then the per-CPU
// path. So a write-heavy phase pays one fence and then runs as a
// sync.RWMutex plus a clock read every 256 reads and a decision per window,
// a writer alone never pays a fence, and a read phase gets the per-CPU
// path back one or two windows after its last write. The zero RWMutex is
// in check with no ledger: its readers count themselves (an atomic add to
// m.wrote's upper half) and the rwFirstReads-th (64th) biases it, so that
// a mutex read only now and then (one per map entry, say) never allocates
// the ledger. Taking m.rw.Lock to bias is why recursive read locking
// (already forbidden with sync.RWMutex, where it deadlocks when a writer
// arrives in between) can deadlock here even without a writer at that
// moment.
//
// Memory ordering. x86-64 is TSO. On arm64 the engine commits every
// section with a store-release (STLR) and its other loads and stores are
// plain; sync/atomic operations are sequentially consistent (LDAR, STLR,
// LDADDAL). The reader's add-then-load needs no barrier of its own
// (FenceAll's, above; on arm64 the commit STLR followed by the LDAR of mode
// is ordered anyway). A reader's loads of the protected data come after
// its load of mode (LDAR: acquire), which read biased as stored (STLR) by
// a re-biaser after its m.rw.Lock, itself after the previous writer's
// m.rw.Unlock: they see that writer's stores. RUnlock's add commits with
// STLR (release), so the reader's data loads are ordered before it; the
// writer loads the counts with LDAR (acquire), before its own stores to the
// data. The m.rw paths are sync.RWMutex's.
//
// Misuse. Unlock of an m not locked for writing and RUnlock of an m not
// locked for reading panic in the faulty call, before changing any state,
// with a message naming rseq.RWMutex (sync.RWMutex throws an unrecoverable
// fatal error instead). Unlock and the unbiased side of RUnlock read
// sync.RWMutex's reader count (found at start-up by reflection and checked
// by a probe; without it they leave the detection to sync.RWMutex): 0 (or
// a writer pending and no reader) in RUnlock means no reader holds, which
// is exactly when sync.RWMutex detects it; not negative in Unlock means no
// writer holds. On the biased side RUnlock, after its add to unlock[c],
// compares with lock[c] + base[c] of the same CPU c: more unlocks there
// than that makes it sum U then L over every CPU (as a writer does), and if
// L < U this RUnlock had no RLock: it adds 1 to lock[c], balancing the
// ledger again, and panics. If L >= U, the unlock matched a lock taken on
// another CPU: it adds 1 to base[c], so that the imbalance costs one sum,
// not one per later RUnlock there. Every revocation sets base[c] =
// unlock[c] - lock[c] after the drain. As with sync.RWMutex, an extra
// RUnlock goes unseen while other readers hold the lock (here: readers
// that entered on that CPU, or, until the next revocation, readers that
// entered there and left elsewhere); a writer whose drain finds L < U
// panics then.
//
// Where rseq is not used (no engine, GORSEQ=off, race builds) the per-CPU
// adds would be the fallback's locked operations, slower than
// sync.RWMutex's read lock, so the mutex never biases: its first reader
// moves it to plain, and it is a sync.RWMutex with the misuse checks
// above. (Tests force the bias there,
// to run the protocol under the race detector.)

// RWMutex is a reader/writer mutual exclusion lock, a drop-in replacement
// for sync.RWMutex, whose readers touch only their own CPU's memory while
// the lock is read-mostly, and which behaves like a sync.RWMutex while
// writes are frequent, switching by itself.
//
// While the lock is biased toward readers, RLock and RUnlock each add 1 to
// a word of the caller's CPU (a restartable sequence, no atomic
// instruction) and load a shared word that only writers write, so readers
// on different CPUs share no cache line. A writer that finds the lock
// biased revokes the bias, paying a fence of every CPU (a membarrier
// system call, microseconds) once; the bias then stays off for a time
// proportional to that cost, and comes back only after a period with no
// writer. Meanwhile readers and writers use an ordinary sync.RWMutex. See
// the protocol at the top of rwmutex.go.
//
// The zero RWMutex is unlocked and ready. It takes 40 bytes, and nothing
// more until it is first biased (at its 64th read): then it allocates
// per-CPU memory (32 bytes per possible CPU, in DefaultSlab(ByCPU)) and
// about 360 bytes of Go heap, both kept until the RWMutex becomes
// unreachable. Where rseq is not used it never biases. An RWMutex must not be copied after first use. As with
// sync.RWMutex, a blocked Lock call excludes new readers from acquiring
// the lock, and a lock may be released by another goroutine than the one
// that acquired it.
type RWMutex struct {
	rw    sync.RWMutex // writers; readers while not biased
	mode  uint32       // rwCheck, rwPlain, rwUnbiased, rwBiased, rwRevoking
	wrote uint32       // bit 0: a writer came during this window; from bit 16: reads before the first bias
	led   atomic.Pointer[rwLedger]
}

// Modes (m.mode). The unbiased side is below rwBiased.
const (
	rwCheck    = iota // unbiased; the next reader decides whether to bias
	rwPlain           // unbiased for good: the bias is not allowed here
	rwUnbiased        // unbiased, within the inhibit window
	rwBiased          // readers use the ledger
	rwRevoking        // a writer drains the ledger
)

// Ledger words (offsets in the per-CPU object).
const (
	rwLockW   = 0  // readers that entered on this CPU
	rwUnlockW = 8  // readers that left on this CPU
	rwBaseW   = 16 // misuse hint: unlocks expected in excess of locks
	rwWords   = 4
)

// The bias policy's constants (see the protocol).
const (
	rwWindowFactor = 16 // window = factor × revocation cost
	rwWindowMin    = 20 * time.Microsecond
	rwWindowGrowth = 64  // the window grows to at most this × the base
	rwFirstReads   = 64  // a fresh mutex biases at its rwFirstReads-th read
	rwPollEvery    = 256 // readers look at the clock once in this many reads
)

// cheaprand is the runtime's per-thread pseudo-random generator (wyrand,
// a few instructions): the cheapest way to pick one read in rwPollEvery.
//
//go:linkname cheaprand runtime.cheaprand
func cheaprand() uint32

// nanotime is the runtime's monotonic clock, without time.Now's wall
// clock.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// rwLedger is the biased mode's state: per-CPU counts and what a
// revocation needs. Allocated when the mutex is first biased.
type rwLedger struct {
	p      *PerCPU
	off    uintptr        // the object's offset in every block
	base   unsafe.Pointer // block 0's object
	stride uintptr
	ref    Ref
	clean  runtime.Cleanup

	gate          sync.Mutex
	drained       sync.Cond // the writer sleeps here until readers drain
	writerWaiting bool      // guarded by gate

	deadline atomic.Int64  // nanotime at which the inhibit window ends
	biasedAt int64         // nanotime of the last bias; under rw.Lock
	biasCost time.Duration // what the last bias took (m.rw.Lock wait included); under rw.Lock
	cost     time.Duration // the estimate of a bias cycle's cost; under rw.Lock
	window   atomic.Int64
}

// rwStats counts slow-path events, for tests and Stats-style reports.
var rwStats struct {
	biases, revocations, backOuts, imports atomic.Uint64
}

// rwBiasPolicy overrides where the mutex may bias (tests): rwBiasAuto
// (where rseq is used), rwBiasAlways (also the fallback: the protocol
// under the race detector), rwBiasNever.
var rwBiasPolicy atomic.Int32

const (
	rwBiasAuto = iota
	rwBiasAlways
	rwBiasNever
)

// rwWindowOverride, when >= 0, replaces the computed inhibit window
// (tests: flip the bias as often as possible).
var rwWindowOverride atomic.Int64

func init() { rwWindowOverride.Store(-1) }

func rwBiasAllowed() bool {
	switch rwBiasPolicy.Load() {
	case rwBiasAlways:
		return true
	case rwBiasNever:
		return false
	}
	return engineOn
}

// word returns the address of ledger word w of CPU cpu.
func (l *rwLedger) word(cpu int, w uintptr) *uint64 {
	return (*uint64)(unsafe.Add(l.base, uintptr(cpu)*l.stride+w))
}

// RLock locks m for reading. It should not be used for recursive read
// locking: a blocked Lock call excludes new readers, and so does the
// mutex itself for a moment when it switches to biased mode.
func (m *RWMutex) RLock() {
	md := atomic.LoadUint32(&m.mode)
	if md == rwBiased { // first: the path that must be fast
		l := m.led.Load()
		l.p.Add(Current, l.off+rwLockW, 1)
		if atomic.LoadUint32(&m.mode) == rwBiased {
			return
		}
		m.backOut(l)
	} else if md == rwPlain {
		m.rw.RLock() // mode cannot change any more
		return
	} else if md == rwUnbiased && (cheaprand()%rwPollEvery != 0 || !m.windowOver()) {
		m.rw.RLock()
		if atomic.LoadUint32(&m.mode) < rwBiased {
			return
		}
		m.rw.RUnlock() // biased meanwhile
	}
	m.rlockSlow()
}

// windowOver is a reader's look at the clock, one read in rwPollEvery on
// the unbiased side: if the inhibit window has ended, it moves mode to
// check (the reader then decides, in rlockSlow).
func (m *RWMutex) windowOver() bool {
	l := m.led.Load()
	return l != nil && nanotime() >= l.deadline.Load() &&
		atomic.CompareAndSwapUint32(&m.mode, rwUnbiased, rwCheck)
}

// backOut undoes a per-CPU entry that did not validate.
func (m *RWMutex) backOut(l *rwLedger) {
	rwStats.backOuts.Add(1)
	l.p.Add(Current, l.off+rwUnlockW, 1)
	if atomic.LoadUint32(&m.mode) == rwRevoking {
		l.wake()
	}
}

// tryFast tries the per-CPU path once.
func (m *RWMutex) tryFast() bool {
	if atomic.LoadUint32(&m.mode) != rwBiased {
		return false
	}
	l := m.led.Load()
	l.p.Add(Current, l.off+rwLockW, 1)
	if atomic.LoadUint32(&m.mode) == rwBiased {
		return true
	}
	m.backOut(l)
	return false
}

func (m *RWMutex) rlockSlow() {
	for {
		if atomic.LoadUint32(&m.mode) == rwCheck && m.shouldBias() {
			m.bias()
		} else {
			m.rw.RLock()
			if atomic.LoadUint32(&m.mode) < rwBiased {
				return
			}
			m.rw.RUnlock() // biased meanwhile: the per-CPU path
		}
		if m.tryFast() {
			return
		}
	}
}

// shouldBias is the policy decision, taken by a reader that found mode =
// check, before it holds anything. True: bias now.
func (m *RWMutex) shouldBias() bool {
	l := m.led.Load()
	if !rwBiasAllowed() {
		if l == nil {
			atomic.CompareAndSwapUint32(&m.mode, rwCheck, rwPlain)
		} else { // tests change the policy: stay unbiased, but as it was
			l.deadline.Store(math.MaxInt64)
			atomic.CompareAndSwapUint32(&m.mode, rwCheck, rwUnbiased)
		}
		return false
	}
	if l == nil {
		// A fresh mutex: bias at its rwFirstReads-th read, so that one read
		// now and then allocates nothing.
		if atomic.AddUint32(&m.wrote, 1<<16)>>16 < rwFirstReads {
			return false
		}
		return atomic.CompareAndSwapUint32(&m.mode, rwCheck, rwUnbiased)
	}
	// The end of an inhibit window: one reader decides.
	if !atomic.CompareAndSwapUint32(&m.mode, rwCheck, rwUnbiased) {
		return false
	}
	if atomic.LoadUint32(&m.wrote) != 0 { // a writer came during the window
		atomic.StoreUint32(&m.wrote, 0)
		l.deadline.Store(nanotime() + l.window.Load())
		return false
	}
	return true
}

// bias switches m to the per-CPU readers (allocating the ledger the first
// time, before taking the lock), unless another goroutine did it first.
func (m *RWMutex) bias() {
	var fresh *rwLedger
	if m.led.Load() == nil {
		if fresh = newLedger(); fresh == nil {
			return // no memory: stay unbiased
		}
	}
	t0 := nanotime()
	m.rw.Lock()
	l := m.led.Load()
	if l == nil {
		l, fresh = fresh, nil
		m.led.Store(l)
	}
	if atomic.LoadUint32(&m.mode) < rwBiased {
		l.biasedAt = nanotime()
		l.biasCost = time.Duration(l.biasedAt - t0)
		rwStats.biases.Add(1)
		atomic.StoreUint32(&m.mode, rwBiased)
	}
	m.rw.Unlock()
	if fresh != nil { // another goroutine published one first
		fresh.clean.Stop()
		freeRef(fresh.ref)
	}
}

// newLedger allocates the per-CPU counts, or returns nil (and the mutex
// stays unbiased) if no memory can be mapped.
func newLedger() *rwLedger {
	s, err := DefaultSlab(ByCPU)
	if err != nil {
		return nil
	}
	r, err := s.Alloc(rwWords)
	if err != nil {
		return nil
	}
	l := &rwLedger{
		p:      r.PerCPU(),
		off:    r.Off(),
		base:   unsafe.Pointer(r.word(0, 0)),
		stride: r.PerCPU().Stride(),
		ref:    r,
	}
	l.drained.L = &l.gate
	l.clean = runtime.AddCleanup(l, freeRef, r)
	return l
}

// TryRLock tries to lock m for reading and reports whether it succeeded. It
// fails, without waiting, while a writer holds or waits for the lock.
func (m *RWMutex) TryRLock() bool {
	if m.tryFast() {
		return true
	}
	if !m.rw.TryRLock() {
		return false
	}
	if atomic.LoadUint32(&m.mode) < rwBiased {
		return true
	}
	m.rw.RUnlock()
	return m.tryFast()
}

// RUnlock undoes a single RLock call. It may run on another goroutine (and
// CPU) than the RLock. It panics if m is not locked for reading (see the
// protocol at the top of rwmutex.go for the cases it can see).
func (m *RWMutex) RUnlock() {
	if atomic.LoadUint32(&m.mode) >= rwBiased {
		l := m.led.Load()
		v, at, _ := l.p.Add(Current, l.off+rwUnlockW, 1)
		b := unsafe.Add(l.base, uintptr(at)*l.stride) // this object in block at
		if int64(uint64(v)-atomic.LoadUint64((*uint64)(b))-atomic.LoadUint64((*uint64)(unsafe.Add(b, rwBaseW)))) > 0 {
			l.suspect(at)
		}
		if atomic.LoadUint32(&m.mode) == rwRevoking {
			l.wake()
		}
		return
	}
	if rwCountOK {
		if c := atomic.LoadInt32((*int32)(unsafe.Add(unsafe.Pointer(&m.rw), rwCountOff))); c == 0 || c == -rwMaxReaders {
			panic("rseq: RUnlock of unlocked rseq.RWMutex")
		}
	}
	m.rw.RUnlock()
}

// suspect checks an unlock that found more unlocks than locks on its CPU.
func (l *rwLedger) suspect(at int) {
	if l.inside() >= 0 { // it matched a lock taken on another CPU
		rwStats.imports.Add(1)
		l.p.Add(at, l.off+rwBaseW, 1) // NotOnCPU: leave it to the next one
		return
	}
	l.p.Add(Current, l.off+rwLockW, 1) // balance the ledger again
	panic("rseq: RUnlock of unlocked rseq.RWMutex")
}

// wake wakes the revoking writer if it sleeps waiting for readers.
func (l *rwLedger) wake() {
	l.gate.Lock()
	if l.writerWaiting {
		l.drained.Signal()
	}
	l.gate.Unlock()
}

// inside returns the number of per-CPU readers holding the lock (lock
// count minus unlock count), read in the order the protocol needs: every
// unlock first, then every lock.
func (l *rwLedger) inside() int64 {
	var u, k uint64
	n := l.p.Len()
	for cpu := 0; cpu < n; cpu++ {
		u += atomic.LoadUint64(l.word(cpu, rwUnlockW))
	}
	for cpu := 0; cpu < n; cpu++ {
		k += atomic.LoadUint64(l.word(cpu, rwLockW))
	}
	return int64(k - u)
}

// Lock locks m for writing. If the lock is already locked for reading or
// writing, Lock blocks until the lock is available; from the moment it is
// called, new readers wait.
func (m *RWMutex) Lock() {
	m.rw.Lock()
	if atomic.LoadUint32(&m.wrote) == 0 {
		atomic.StoreUint32(&m.wrote, 1) // once per window: the line stays shared
	}
	if atomic.LoadUint32(&m.mode) >= rwBiased {
		m.revoke(false)
	}
}

// TryLock tries to lock m for writing and reports whether it succeeded. It
// fails if a writer holds or waits for the lock or a reader holds it.
// While m is biased, success costs a fence of every CPU, as Lock does.
func (m *RWMutex) TryLock() bool {
	if !m.rw.TryLock() {
		return false
	}
	if atomic.LoadUint32(&m.mode) >= rwBiased && !m.revoke(true) {
		m.rw.Unlock()
		return false
	}
	if atomic.LoadUint32(&m.wrote) == 0 {
		atomic.StoreUint32(&m.wrote, 1)
	}
	return true
}

// revoke takes the bias away; the caller holds m.rw for writing. With
// try, it gives up (and restores the bias) if a reader is inside.
func (m *RWMutex) revoke(try bool) bool {
	l := m.led.Load()
	t0 := nanotime()
	atomic.StoreUint32(&m.mode, rwRevoking)
	FenceAll()
	l.gate.Lock()
	var cost time.Duration
	for {
		in := l.inside()
		if cost == 0 {
			cost = max(time.Duration(nanotime()-t0), 1)
		}
		if in == 0 {
			break
		}
		if in < 0 {
			l.gate.Unlock()
			panic("rseq: RUnlock of unlocked rseq.RWMutex (found by Lock)")
		}
		if try {
			l.gate.Unlock()
			atomic.StoreUint32(&m.mode, rwBiased)
			return false
		}
		l.writerWaiting = true
		l.drained.Wait()
	}
	l.writerWaiting = false
	l.gate.Unlock()

	// Misuse hints: the imbalance of each CPU, now that no reader is inside.
	for cpu := 0; cpu < l.p.Len(); cpu++ {
		u := atomic.LoadUint64(l.word(cpu, rwUnlockW))
		atomic.StoreUint64(l.word(cpu, rwBaseW), u-atomic.LoadUint64(l.word(cpu, rwLockW)))
	}

	// The inhibit window, which the revoking write does not count in. The
	// cost of a bias cycle: this revocation and the bias it ended.
	l.cost = rwCost(l.cost, cost+l.biasCost)
	w := rwWindow(time.Duration(l.window.Load()), l.cost, time.Duration(t0-l.biasedAt))
	if o := rwWindowOverride.Load(); o >= 0 {
		w = time.Duration(o)
	}
	l.window.Store(int64(w))
	atomic.StoreUint32(&m.wrote, 0)
	l.deadline.Store(nanotime() + int64(w))
	rwStats.revocations.Add(1)
	atomic.StoreUint32(&m.mode, rwUnbiased)
	return true
}

// rwCost is the estimate of a bias cycle's cost after one that cost
// sample, the previous estimate being prev (0: none): the sample, but at
// most 4 × prev, so that one cycle stretched by a preempted thread does
// not keep the bias off for long, while a lasting rise is followed within
// a few cycles.
func rwCost(prev, sample time.Duration) time.Duration {
	if prev > 0 {
		return min(sample, 4*prev)
	}
	return sample
}

// rwWindow is the inhibit window after a revocation that cost cost (fence
// and first count scan), ending a bias that lasted biasedFor and that
// followed a window prev (0: none yet): rwWindowFactor × cost, at least
// rwWindowMin; doubled from prev, up to rwWindowGrowth × that, when the
// bias lasted less than prev (it did not pay for its revocation).
func rwWindow(prev, cost, biasedFor time.Duration) time.Duration {
	base := max(rwWindowFactor*cost, rwWindowMin)
	if prev > 0 && biasedFor < prev {
		return min(max(2*prev, base), rwWindowGrowth*base)
	}
	return base
}

// Unlock unlocks m for writing. It panics if m is not locked for writing.
// As with sync.RWMutex, it may run on another goroutine than the Lock.
func (m *RWMutex) Unlock() {
	if rwCountOK && atomic.LoadInt32((*int32)(unsafe.Add(unsafe.Pointer(&m.rw), rwCountOff))) >= 0 {
		panic("rseq: Unlock of unlocked rseq.RWMutex")
	}
	m.rw.Unlock()
}

// RLocker returns a sync.Locker whose Lock and Unlock call m.RLock and
// m.RUnlock.
func (m *RWMutex) RLocker() sync.Locker { return (*rlocker)(m) }

type rlocker RWMutex

func (r *rlocker) Lock()   { (*RWMutex)(r).RLock() }
func (r *rlocker) Unlock() { (*RWMutex)(r).RUnlock() }

// sync.RWMutex's reader count, read (never written) to detect misuse
// before it corrupts the lock: its offset, and whether start-up found it
// where and as expected. Negative while a writer holds or waits (by
// rwMaxReaders), else the number of readers.
var rwCountOff, rwCountOK = findRWCount()

const rwMaxReaders = 1 << 30

func findRWCount() (uintptr, bool) {
	f, ok := reflect.TypeFor[sync.RWMutex]().FieldByName("readerCount")
	if !ok || f.Type != reflect.TypeFor[atomic.Int32]() {
		return 0, false
	}
	var probe sync.RWMutex
	c := (*int32)(unsafe.Add(unsafe.Pointer(&probe), f.Offset))
	ok = atomic.LoadInt32(c) == 0
	probe.RLock()
	probe.RLock()
	ok = ok && atomic.LoadInt32(c) == 2
	probe.RUnlock()
	probe.RUnlock()
	ok = ok && atomic.LoadInt32(c) == 0
	probe.Lock()
	ok = ok && atomic.LoadInt32(c) == -rwMaxReaders
	probe.Unlock()
	ok = ok && atomic.LoadInt32(c) == 0
	return f.Offset, ok
}
