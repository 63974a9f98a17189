package rseq

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// MaxRingRecord is the largest record a Ring carries: one record is copied
// by one critical section (CopyAndStore), at most MaxCopy bytes.
const MaxRingRecord = MaxCopy

// MaxRingSlots is the most slots a Ring has per CPU.
const MaxRingSlots = 1 << 20

// The header of one CPU's block of a Ring: three cache lines. The write
// index, written by this CPU's producers and polled by the consumer; the
// read index, written by the consumer from any CPU and read by producers;
// the drop counter, written by this CPU's producers when the ring is full
// and read only by Dropped (in the write index's line, every drop would
// pull the line away from a polling consumer).
const (
	ringW     = 0   // write index: records committed on this CPU, ever
	ringR     = 64  // read index: records consumed from this CPU's ring, ever
	ringDrops = 128 // pushes refused because a ring was full, counted on this CPU
	ringHdr   = 192 // the first slot
)

// Ring is a set of per-CPU bounded rings of fixed-size records, for many
// producers and one consumer at a time: event logs, trace buffers,
// statistics that must not be lost silently. Push copies a record into the
// ring of the CPU the caller runs on, in one restartable sequence, without
// atomic instructions and without touching any other CPU's cache lines;
// Drain takes every CPU's records out.
//
// Guarantees: records come out of each CPU's ring in the order they were
// committed there; a full ring refuses new records (Push returns false and
// counts a drop) rather than overwrite unread ones; a committed record is
// delivered exactly once, never torn. A producer can migrate between CPUs
// between two Pushes, so one goroutine's records are ordered only among
// those that landed on the same CPU.
//
// A Ring's memory is mapped outside the Go heap and holds no Go pointers;
// it is returned by Close or when the Ring becomes unreachable. All methods
// but Close are safe for concurrent use. Close must not run concurrently
// with another method, and every method called after Close panics. (Close
// keeps the ring's addresses reserved, inaccessible, until the Ring is
// unreachable, so even a Push that races with Close, a bug, faults rather
// than write into memory mapped there later.)
//
// # How a push works
//
// Each CPU's block holds a write index w, a read index r (both count
// records since the start and never wrap in practice: 2^64) and Slots()
// slots; record i lives in slot i mod Slots(). A producer reads the CPU it
// runs on, then atomically loads that CPU's w and then its r. If w-r equals
// the slot count the ring is full: the drop is counted and Push returns
// false. Otherwise CopyAndStore, one critical section pinned to that CPU,
// checks that w is unchanged, copies the record into slot w mod Slots() and
// stores w+1 as its commit. Any interruption (preemption, migration,
// signal) aborts the section before the commit, and another producer that
// committed first changes w, so the section fails its compare; either way
// Push starts over. A stale r only makes the ring look fuller than it is,
// so the slot written is never one the consumer may still be reading: the
// consumer reads slots of records in [r, w) only, and the producer writes
// slot w mod Slots() only after seeing w-r < Slots() with an r no newer than
// the current one.
//
// # Memory ordering
//
// The consumer loads w with an atomic load, then reads the records below
// it, then stores r with an atomic store; producers store r nowhere and
// only compare it. What makes a record visible whole is that its bytes are
// stored before w+1 becomes visible to the consumer:
//
//   - On x86-64 (TSO) stores become visible in program order, so the
//     section's plain stores of the record and its plain commit store of w
//     need no fence, and the consumer's atomic load of w (a plain MOV) is
//     not reordered with its later loads of the record. The consumer's
//     loads of a record complete before its atomic store of r (XCHG), so a
//     producer that sees the new r cannot overwrite a record still being
//     read.
//   - On arm64 the consumer's atomic load is a load-acquire (LDAR) and its
//     store of r a store-release (STLR), which is what it needs; but plain
//     stores may become visible out of order, so the arm64 engine makes
//     the commit of CopyAndStore (every commit) a store-release (STLR,
//     engine_linux_arm64.s): the record's bytes are visible before w+1.
//     The producer's atomic loads of w and r are load-acquires, so its
//     copy cannot be performed before it read r.
//   - The fallback copies under a lock and commits with an atomic store
//     (a store-release everywhere), and the race detector sees the
//     happens-before edges: producer's commit -> consumer's load of w, and
//     consumer's store of r -> producer's load of r.
type Ring struct {
	p         *PerCPU
	by        Indexing
	recSize   uintptr
	slotSize  uintptr // recSize rounded up to 8
	slots     uint64
	mask      uint64
	mem       slabMem
	shared    *consumerLock // a shared ring's cross-process consumer lock, else nil
	cons      sync.Mutex
	scratch   []byte
	clean     runtime.Cleanup
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// live panics if the ring was closed.
func (q *Ring) live() {
	if q.closed.Load() {
		panic("rseq: Ring used after Close")
	}
}

// ringStride returns the bytes of one CPU's block: the header and the
// slots, rounded up to a cache line and kept off a multiple of a page (so
// that consecutive CPUs' blocks do not land on the same cache set).
func ringStride(slotSize uintptr, slots uint64) uintptr {
	s := (ringHdr + uintptr(slots)*slotSize + 63) &^ 63
	if s%4096 == 0 {
		s += 64
	}
	return s
}

func checkRingShape(recordSize, slots int) error {
	switch {
	case recordSize < 1 || recordSize > MaxRingRecord:
		return fmt.Errorf("rseq: Ring: record size %d (want 1 to %d)", recordSize, MaxRingRecord)
	case slots < 1 || slots > MaxRingSlots || slots&(slots-1) != 0:
		return fmt.Errorf("rseq: Ring: %d slots (want a power of two from 1 to %d)", slots, MaxRingSlots)
	}
	return nil
}

// NewRing maps one ring of slots slots (a power of two, at most
// MaxRingSlots) of recordSize bytes (1 to MaxRingRecord) for each possible
// CPU, indexed by CPU number (ByCPU) or concurrency id (ByConcurrencyID).
func NewRing(recordSize, slots int, by Indexing) (*Ring, error) {
	if err := checkRingShape(recordSize, slots); err != nil {
		return nil, err
	}
	if by != ByCPU && by != ByConcurrencyID {
		return nil, fmt.Errorf("rseq: NewRing: unknown index %d", int(by))
	}
	slotSize := (uintptr(recordSize) + 7) &^ 7
	stride := ringStride(slotSize, uint64(slots))
	n := max(PossibleCPUs(), 1)
	if uintptr(n) > (math.MaxInt-4096)/stride {
		return nil, fmt.Errorf("rseq: NewRing: %d CPUs of %d bytes overflow", n, stride)
	}
	mem, err := mapSlab(uintptr(n) * stride)
	if err != nil {
		return nil, fmt.Errorf("rseq: NewRing: mapping %d bytes: %w", uintptr(n)*stride, err)
	}
	q, err := newRingAt(mem, mem.base, stride, n, by, recordSize, slots)
	if err != nil {
		mem.unmap()
		return nil, err
	}
	return q, nil
}

// newRingAt builds a Ring over n blocks of stride bytes at base, inside
// mem, which the Ring then owns (unmapped by Close or the cleanup).
func newRingAt(mem slabMem, base unsafe.Pointer, stride uintptr, n int, by Indexing, recordSize, slots int) (*Ring, error) {
	p, err := NewPerCPU(base, stride, n, by)
	if err != nil {
		return nil, err
	}
	slotSize := (uintptr(recordSize) + 7) &^ 7
	q := &Ring{
		p:        p,
		by:       by,
		recSize:  uintptr(recordSize),
		slotSize: slotSize,
		slots:    uint64(slots),
		mask:     uint64(slots - 1),
		mem:      mem,
		scratch:  make([]byte, recordSize),
	}
	q.clean = runtime.AddCleanup(q, func(m slabMem) { m.unmap() }, mem)
	return q, nil
}

// RecordSize returns the size of a record in bytes.
func (q *Ring) RecordSize() int {
	q.live()
	return int(q.recSize)
}

// Slots returns the capacity of each CPU's ring, in records.
func (q *Ring) Slots() int {
	q.live()
	return int(q.slots)
}

// CPUs returns the number of per-CPU rings.
func (q *Ring) CPUs() int {
	q.live()
	return q.p.Len()
}

// index returns the ring the caller should push to: the one of the CPU (or
// concurrency id) it runs on, or, where that cannot be read, the current
// P's (the fallback accepts any explicit index).
func (q *Ring) index() int {
	i := -1
	if q.by == ByCPU {
		i = CPU()
	} else {
		i = ConcurrencyID()
	}
	if uint(i) >= uint(q.p.Len()) {
		i = fbIndex(uintptr(q.p.Len()))
	}
	return i
}

// Push copies rec, which must be RecordSize() bytes long (else Push
// panics), into the ring of the CPU the caller runs on. It returns false,
// and counts a drop, if that ring is full.
func (q *Ring) Push(rec []byte) bool {
	q.live()
	if uintptr(len(rec)) != q.recSize {
		panic(fmt.Sprintf("rseq: Ring.Push: record of %d bytes, want %d", len(rec), q.recSize))
	}
	if q.shared != nil {
		return q.pushShared(rec)
	}
	p := q.p
	stale := 0
	for {
		cpu := q.index()
		w := p.Load(cpu, ringW)
		r := p.Load(cpu, ringR) // after w: r <= w unless the consumer passed the w read
		switch d := w - r; {
		case d > q.slots: // r is newer than w (or memory is corrupt): read again
			if stale++; stale > maxStale {
				q.corrupt(cpu, w, r)
			}
			continue
		case d == q.slots:
			p.Add(Current, ringDrops, 1)
			runtime.KeepAlive(q)
			return false
		}
		dst := ringHdr + uintptr(w&q.mask)*q.slotSize
		if _, _, res := p.CopyAndStore(cpu, ringW, w, dst, rec, w+1); res == Committed {
			runtime.KeepAlive(q) // the mapping must outlive the section
			return true
		}
		// Failed: another producer committed on that CPU first.
		// NotOnCPU: the caller moved. Read the CPU and the indexes again.
	}
}

// pushShared is Push on a ring in memory shared with other processes: the
// same steps, through the engine only (see percpu_strict.go).
func (q *Ring) pushShared(rec []byte) bool {
	p := q.p
	stale := 0
	for {
		cpu := CPU()
		if uint(cpu) >= uint(p.Len()) {
			if cpu < 0 {
				panic(errStrictUnregistered)
			}
			panic(errCPUOutside(cpu, p.Len()))
		}
		w := p.Load(cpu, ringW)
		r := p.Load(cpu, ringR)
		switch d := w - r; {
		case d > q.slots:
			if stale++; stale > maxStale {
				q.corrupt(cpu, w, r)
			}
			continue
		case d == q.slots:
			if err := p.strictAdd(ringDrops, 1); err != nil {
				panic(err)
			}
			runtime.KeepAlive(q)
			return false
		}
		dst := ringHdr + uintptr(w&q.mask)*q.slotSize
		res, err := p.strictCopy(cpu, ringW, w, dst, rec, w+1)
		if err != nil {
			panic(err)
		}
		if res == Committed {
			runtime.KeepAlive(q)
			return true
		}
	}
}

// Drain takes every record out of every CPU's ring, calling f with the
// ring's index and the record, CPU by CPU, in commit order within each. rec
// is valid only until f returns (it is a scratch buffer reused for the next
// record). Drains are serialized (one consumer at a time; for a shared
// ring, across processes too); f must not call Drain. Records committed
// while Drain runs may be delivered by this Drain or by the next. If f
// panics, the record it was given counts as delivered. Drain returns the
// number of records delivered.
//
// For a shared ring a record counts as delivered as soon as f is called
// with it: if the consumer's process dies (killed, crashed) inside f, the
// lock passes to the next consumer, in any process, which starts after
// that record, so that no record is delivered twice.
func (q *Ring) Drain(f func(cpu int, rec []byte)) int {
	q.live()
	q.lockConsumer()
	defer q.unlockConsumer()
	n := 0
	for cpu := 0; cpu < q.p.Len(); cpu++ {
		n += q.drainCPU(cpu, f)
	}
	runtime.KeepAlive(q)
	return n
}

// DrainCPU is Drain for the ring of one index only.
func (q *Ring) DrainCPU(cpu int, f func(cpu int, rec []byte)) int {
	q.live()
	q.p.checkIndex(cpu)
	if cpu < 0 {
		panic("rseq: Ring.DrainCPU needs an explicit index")
	}
	q.lockConsumer()
	defer q.unlockConsumer()
	n := q.drainCPU(cpu, f)
	runtime.KeepAlive(q)
	return n
}

func (q *Ring) drainCPU(cpu int, f func(cpu int, rec []byte)) int {
	b := q.p.s.block(cpu)
	w := atomic.LoadUint64(word(b, ringW)) // acquire: records below w are whole
	rp := word(b, ringR)
	r := atomic.LoadUint64(rp) // only consumers store r, and we are the one
	if w-r > q.slots {
		q.corrupt(cpu, w, r)
	}
	if w == r {
		return 0
	}
	i := r
	defer func() { atomic.StoreUint64(rp, i) }() // release the slots read, even if f panics
	shared := q.shared != nil
	for i != w {
		// The slot index is masked: whatever the indexes hold, the read
		// stays inside this block.
		src := unsafe.Slice((*byte)(unsafe.Add(b, ringHdr+uintptr(i&q.mask)*q.slotSize)), q.recSize)
		copy(q.scratch, src)
		i++
		if shared {
			// Another process may consume next, after this one dies
			// in f without running the deferred store: it must start
			// after this record.
			atomic.StoreUint64(rp, i)
		}
		f(cpu, q.scratch)
	}
	return int(w - r)
}

// maxStale is how many times in a row Push may find a read index newer
// than the write index it read just before (the consumer passed it in
// between) before it decides the memory is corrupt.
const maxStale = 1 << 20

func (q *Ring) corrupt(cpu int, w, r uint64) {
	panic(fmt.Sprintf("rseq: Ring: index %d holds write index %d and read index %d for %d slots (memory corrupted)", cpu, w, r, q.slots))
}

// Dropped returns the number of records refused because a ring was full,
// summed over the CPUs (counted where the refused producer ran). Like
// Counter.Load it is not a snapshot while Pushes run.
func (q *Ring) Dropped() uint64 {
	q.live()
	var s uint64
	for cpu := 0; cpu < q.p.Len(); cpu++ {
		s += q.p.Load(cpu, ringDrops)
	}
	runtime.KeepAlive(q)
	return s
}

// Len returns the number of records waiting in all the rings (not a
// snapshot while Pushes or Drains run).
func (q *Ring) Len() int {
	q.live()
	var s uint64
	for cpu := 0; cpu < q.p.Len(); cpu++ {
		w := q.p.Load(cpu, ringW)
		r := q.p.Load(cpu, ringR)
		if d := w - r; d <= q.slots {
			s += d
		}
	}
	runtime.KeepAlive(q)
	return int(s)
}

// Close returns the ring's memory (for a shared ring, stops mapping the
// file in this process; the file and other processes' mappings stay). It
// must not run concurrently with another method; every method called
// afterwards panics. The addresses stay reserved until the Ring is
// unreachable (see Ring). Closing twice does nothing.
func (q *Ring) Close() error {
	q.closeOnce.Do(func() {
		q.closed.Store(true)
		q.closeErr = q.mem.retire() // the cleanup unmaps the reservation
		if q.shared != nil {
			q.shared.close()
		}
	})
	return q.closeErr
}

// lockConsumer serializes consumers: a mutex within the process and, for a
// shared ring, an open-file-description lock on the file across processes
// (see consumerLock).
func (q *Ring) lockConsumer() {
	q.cons.Lock()
	if q.shared == nil {
		return
	}
	if err := q.shared.lock(); err != nil {
		q.cons.Unlock()
		panic(fmt.Sprintf("rseq: Ring.Drain: taking the shared ring's consumer lock: %v", err))
	}
}

func (q *Ring) unlockConsumer() {
	if q.shared != nil {
		if err := q.shared.unlock(); err != nil {
			q.cons.Unlock()
			panic(fmt.Sprintf("rseq: Ring.Drain: releasing the shared ring's consumer lock: %v", err))
		}
	}
	q.cons.Unlock()
}
