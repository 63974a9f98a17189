package rseq

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// Current, passed as the cpu argument of a PerCPU operation, means "the
// index of the thread running the operation": the operation reads it inside
// its critical section and reports which one it used.
const Current = -1

// MaxCopy is the most bytes CopyAndStore copies in one critical section.
// Longer copies would make the section more likely to be aborted than to
// commit under preemption.
const MaxCopy = 256

// Indexing says which id of the running thread selects its block of per-CPU
// memory.
type Indexing int

const (
	// ByCPU indexes by CPU number (cpu_id): one block per possible CPU.
	ByCPU Indexing = iota
	// ByConcurrencyID indexes by the process's concurrency id (mm_cid,
	// Linux 6.3+): dense, below min(threads, CPUs), so a process on few
	// threads touches few blocks. Where the kernel has no mm_cid, every
	// operation takes the fallback.
	ByConcurrencyID
)

func (x Indexing) String() string {
	switch x {
	case ByCPU:
		return "cpu"
	case ByConcurrencyID:
		return "concurrency id"
	}
	return fmt.Sprintf("Indexing(%d)", int(x))
}

// Result is the outcome of a PerCPU operation.
type Result int

const (
	// Committed: the operation's committing store ran.
	Committed Result = iota
	// Failed: a compare did not hold, or the list was empty (Pop) or full
	// (Push). Nothing was written.
	Failed
	// NotOnCPU: an explicit index was given and the calling thread was
	// running elsewhere. Nothing was written; the caller may retry with
	// the index it is on now.
	NotOnCPU
)

func (r Result) String() string {
	switch r {
	case Committed:
		return "committed"
	case Failed:
		return "failed"
	case NotOnCPU:
		return "not on that CPU"
	}
	return fmt.Sprintf("Result(%d)", int(r))
}

// PerCPU is the critical-section engine's view of per-CPU memory: n blocks
// of stride bytes, block i at base + i*stride, and the primitives that
// update the block of the CPU (or concurrency id) the caller runs on
// without atomic instructions, as restartable sequences.
//
// Offsets name 8-byte words inside a block. The memory must hold no Go
// pointers (assembly stores bypass the garbage collector's write barriers)
// and must stay mapped while the PerCPU is used; other goroutines may read
// any word with Load at any time.
//
// Bad arguments (misaligned offsets, words past the stride, an index out of
// range, copies longer than MaxCopy) panic before any memory is touched.
type PerCPU struct {
	s        blocks // first: the fast entry points hand &p.s to their slow paths
	by       Indexing
	fallback bool // this index mode is not available: always the fallback
}

// NewPerCPU describes n blocks of stride bytes starting at base. base must
// be 8-byte aligned, stride a positive multiple of 8. Size n by
// PossibleCPUs: a thread whose index is n or more still gets correct
// results, through the slow fallback.
func NewPerCPU(base unsafe.Pointer, stride uintptr, n int, by Indexing) (*PerCPU, error) {
	switch {
	case base == nil:
		return nil, errors.New("rseq: NewPerCPU: nil base")
	case uintptr(base)%8 != 0:
		return nil, fmt.Errorf("rseq: NewPerCPU: base %p is not 8-byte aligned", base)
	case stride == 0 || stride%8 != 0:
		return nil, fmt.Errorf("rseq: NewPerCPU: stride %d is not a positive multiple of 8", stride)
	case n < 1 || n > 1<<20:
		return nil, fmt.Errorf("rseq: NewPerCPU: %d blocks (want 1 to %d)", n, 1<<20)
	case uint64(stride) > (math.MaxUint64-uint64(uintptr(base)))/uint64(n):
		return nil, errors.New("rseq: NewPerCPU: base + n*stride overflows")
	case by != ByCPU && by != ByConcurrencyID:
		return nil, fmt.Errorf("rseq: NewPerCPU: unknown index %d", int(by))
	}
	p := &PerCPU{s: newBlocks(base, stride, n, offCPUID), by: by}
	if by == ByConcurrencyID {
		p.s.idOff = offMMCID
		p.fallback = !info.ConcurrencyID
	}
	if p.fallback {
		p.s.lim = 0
	}
	return p, nil
}

// newBlocks describes n blocks of stride bytes at base, indexed by the area
// field at idOff, and lets sections run on them if the engine is on.
func newBlocks(base unsafe.Pointer, stride uintptr, n int, idOff uintptr) blocks {
	s := blocks{base: base, stride: stride, n: uintptr(n), idOff: idOff, lastWord: stride/8 - 1}
	if engineOn {
		s.lim = uintptr(n) + 1
	}
	return s
}

// Len returns the number of blocks.
func (p *PerCPU) Len() int { return int(p.s.n) }

// Stride returns the size of a block in bytes.
func (p *PerCPU) Stride() uintptr { return p.s.stride }

// By returns the index mode.
func (p *PerCPU) By() Indexing { return p.by }

// useEngine reports whether sections may run on this memory.
func (p *PerCPU) useEngine() bool { return p.s.lim != 0 }

func (p *PerCPU) checkIndex(cpu int)                 { p.s.checkIndex(cpu) }
func (p *PerCPU) checkWord(what string, off uintptr) { p.s.checkWord(what, off) }

func (s *blocks) checkIndex(cpu int) {
	if cpu < Current || cpu >= int(s.n) {
		panic(fmt.Sprintf("rseq: index %d out of range [0, %d) (or Current)", cpu, s.n))
	}
}

func (s *blocks) checkWord(what string, off uintptr) {
	if off%8 != 0 || off > s.stride-8 {
		panic(fmt.Sprintf("rseq: %s offset %d is not an aligned word inside the %d-byte block", what, off, s.stride))
	}
}

// badArray is the inlined guard of Push and Pop.
func (p *PerCPU) badArray(countOff, arrOff uintptr, capacity int) bool {
	return capacity < 1 || arrOff%8 != 0 || arrOff > p.s.stride || uintptr(capacity) > (p.s.stride-arrOff)/8 ||
		(countOff >= arrOff && countOff < arrOff+uintptr(capacity)*8)
}

func (p *PerCPU) checkArray(countOff, arrOff uintptr, capacity int) {
	p.checkWord("count", countOff)
	if capacity < 1 || arrOff%8 != 0 || arrOff > p.s.stride || uintptr(capacity) > (p.s.stride-arrOff)/8 {
		panic(fmt.Sprintf("rseq: array of %d words at offset %d does not fit the %d-byte block", capacity, arrOff, p.s.stride))
	}
	if countOff >= arrOff && countOff < arrOff+uintptr(capacity)*8 {
		panic("rseq: the count word lies inside the array")
	}
}

func corrupt(what string, c uint64, capacity, at int) {
	panic(fmt.Sprintf("rseq: %s: count %d at index %d exceeds the capacity %d (memory corrupted)", what, c, at, capacity))
}

// result is the Result of a final status (stCommitted, stFailed,
// stWrongCPU), which have the same values.
func result(st int) Result { return Result(st) }

// Load atomically reads the word at off in block cpu (an index, not
// Current). Any goroutine may call it at any time.
func (p *PerCPU) Load(cpu int, off uintptr) uint64 {
	// The offset rotated right by 3 exceeds the last word's index if it
	// is misaligned or past the block (as the fast entry points check).
	if uint(cpu) >= uint(p.s.n) || bits.RotateLeft(uint(off), -3) > uint(p.s.lastWord) {
		panic(badLoad{cpu, off, p.s.n, p.s.stride}) // formatted only when printed: Load inlines
	}
	return atomic.LoadUint64((*uint64)(unsafe.Add(p.s.base, uintptr(cpu)*p.s.stride+off)))
}

// badLoad is the panic value of a Load with bad arguments: an error whose
// message says what is wrong.
type badLoad struct {
	cpu               int
	off, n, blockSize uintptr
}

func (e badLoad) Error() string {
	if e.cpu < 0 || e.cpu >= int(e.n) {
		return fmt.Sprintf("rseq: Load: index %d out of range [0, %d)", e.cpu, e.n)
	}
	return fmt.Sprintf("rseq: Load: offset %d is not an aligned word inside the %d-byte block", e.off, e.blockSize)
}

// bad reports whether cpu is out of range or off is not an aligned word
// inside a block: the inlined guard of every operation.
func (p *PerCPU) bad(cpu int, off uintptr) bool { return p.s.bad(cpu, off) }

func (s *blocks) bad(cpu int, off uintptr) bool {
	return uint(cpu+1) > uint(s.n) || off%8 != 0 || off > s.stride-8
}

// complain panics with the reason a guard failed.
func (p *PerCPU) complain(what string, cpu int, off uintptr) { p.s.complain(what, cpu, off) }

func (s *blocks) complain(what string, cpu int, off uintptr) {
	s.checkIndex(cpu)
	s.checkWord(what, off)
}

// Each operation below is a fast path (the inlined guard, one primitive,
// done) and a slow path that handles every other status: aborts (retry),
// threads not yet registered (register, retry), explicit indexes the caller
// is not on, and the fallback.

// Add adds delta to the word at off of the block of cpu (Current: the
// caller's) and returns the new value and the index used. With Current it
// always commits.
func (p *PerCPU) Add(cpu int, off uintptr, delta int64) (val int64, at int, r Result) {
	// One call, so that Add inlines: rsAddFast checks its arguments and
	// the memory, runs the section and, for anything but a commit or
	// NotOnCPU, goes on in addSlow (a tail call from the assembly).
	v, id, st := rsAddFast(&p.s, cpu, off, uint64(delta))
	return int64(v), id, Result(st)
}

// addSlow is everything of Add but its fast path: bad arguments (a panic),
// memory the engine does not run on, aborted sections (retried), threads
// not yet registered, and the fallback. The fast entry point jumps here
// with its own arguments when its section did not finish the operation.
func addSlow(s *blocks, cpu int, off uintptr, delta uint64) (uint64, int, int) {
	return addRetry(s, cpu, off, delta)
}

// addAborted is addSlow for a section the kernel aborted (its abort
// handler jumps here): count the abort, then the same.
func addAborted(s *blocks, cpu int, off uintptr, delta uint64) (uint64, int, int) {
	aborts.Add(1)
	return addRetry(s, cpu, off, delta)
}

func addRetry(s *blocks, cpu int, off uintptr, delta uint64) (uint64, int, int) {
	if s.bad(cpu, off) {
		s.complain("add", cpu, off)
	}
	if s.lim != 0 {
		for {
			v, id, st := rsAdd(s, cpu, off, delta)
			if st <= stWrongCPU {
				return v, id, st
			}
			if !retryable(st) {
				break
			}
		}
	}
	return fbAdd(s, cpu, off, delta)
}

// CompareAndSwap stores nv into the word at off of the block of cpu if it
// holds old. It returns the value found and the index used.
func (p *PerCPU) CompareAndSwap(cpu int, off uintptr, old, nv uint64) (seen uint64, at int, r Result) {
	if p.bad(cpu, off) {
		p.complain("compare-and-swap", cpu, off)
	}
	st := -1
	if p.s.lim != 0 {
		var v uint64
		var id int
		if v, id, st = rsCAS(&p.s, cpu, off, old, nv); st <= stFailed || st == stWrongCPU {
			return v, id, result(st)
		}
	}
	return p.casSlow(cpu, off, old, nv, st)
}

func (p *PerCPU) casSlow(cpu int, off uintptr, old, nv uint64, first int) (uint64, int, Result) {
	if p.useEngine() && retryable(first) {
		for {
			v, id, st := rsCAS(&p.s, cpu, off, old, nv)
			if st <= stFailed || st == stWrongCPU {
				return v, id, result(st)
			}
			if !retryable(st) {
				break
			}
		}
	}
	v, id, st := fbCAS(&p.s, cpu, off, old, nv)
	return v, id, result(st)
}

// CompareAndSwapGuarded is CompareAndSwap with a second guard: it stores
// only if the word holds old and *guard (any 8-byte aligned word, per-CPU
// or shared) holds gval. It returns the value found at off.
func (p *PerCPU) CompareAndSwapGuarded(cpu int, off uintptr, old, nv uint64, guard *uint64, gval uint64) (seen uint64, at int, r Result) {
	if p.bad(cpu, off) {
		p.complain("guarded compare-and-swap", cpu, off)
	}
	if guard == nil || uintptr(unsafe.Pointer(guard))%8 != 0 {
		panic("rseq: guard is nil or not 8-byte aligned")
	}
	st := -1
	if p.s.lim != 0 {
		var v uint64
		var id int
		if v, id, st = rsCASGuarded(&p.s, cpu, off, old, nv, guard, gval); st <= stFailed || st == stWrongCPU {
			return v, id, result(st)
		}
	}
	return p.cas2Slow(cpu, off, old, nv, guard, gval, st)
}

func (p *PerCPU) cas2Slow(cpu int, off uintptr, old, nv uint64, guard *uint64, gval uint64, first int) (uint64, int, Result) {
	if p.useEngine() && retryable(first) {
		for {
			v, id, st := rsCASGuarded(&p.s, cpu, off, old, nv, guard, gval)
			if st <= stFailed || st == stWrongCPU {
				return v, id, result(st)
			}
			if !retryable(st) {
				break
			}
		}
	}
	v, id, st := fbCAS2(&p.s, cpu, off, old, nv, guard, gval)
	return v, id, result(st)
}

// Push appends v to the LIFO array of the block of cpu: a count word at
// countOff and capacity words at arrOff. It returns the new count; Failed
// means the array is full.
func (p *PerCPU) Push(cpu int, countOff, arrOff uintptr, capacity int, v uint64) (count int, at int, r Result) {
	if p.bad(cpu, countOff) || p.badArray(countOff, arrOff, capacity) {
		p.checkIndex(cpu)
		p.checkArray(countOff, arrOff, capacity)
	}
	st := -1
	if p.s.lim != 0 {
		var c uint64
		var id int
		if c, id, st = rsPush(&p.s, cpu, countOff, arrOff, uintptr(capacity), v); st <= stFailed || st == stWrongCPU {
			return int(c), id, result(st)
		}
	}
	return p.pushSlow(cpu, countOff, arrOff, capacity, v, st)
}

func (p *PerCPU) pushSlow(cpu int, countOff, arrOff uintptr, capacity int, v uint64, first int) (int, int, Result) {
	if p.useEngine() && retryable(first) {
		for {
			c, id, st := rsPush(&p.s, cpu, countOff, arrOff, uintptr(capacity), v)
			if st == stCorrupt {
				corrupt("Push", c, capacity, id)
			}
			if st <= stFailed || st == stWrongCPU {
				return int(c), id, result(st)
			}
			if !retryable(st) {
				break
			}
		}
	}
	c, id, st := fbPush(&p.s, cpu, countOff, arrOff, uintptr(capacity), v)
	if st == stCorrupt {
		corrupt("Push", c, capacity, id)
	}
	return int(c), id, result(st)
}

// Pop removes and returns the last value of the LIFO array of the block of
// cpu (see Push). Failed means the array is empty. Only operations on that
// block can change it, so the pop is free of ABA.
func (p *PerCPU) Pop(cpu int, countOff, arrOff uintptr, capacity int) (v uint64, at int, r Result) {
	if p.bad(cpu, countOff) || p.badArray(countOff, arrOff, capacity) {
		p.checkIndex(cpu)
		p.checkArray(countOff, arrOff, capacity)
	}
	st := -1
	if p.s.lim != 0 {
		var v uint64
		var id int
		if v, id, st = rsPop(&p.s, cpu, countOff, arrOff, uintptr(capacity)); st <= stFailed || st == stWrongCPU {
			return v, id, result(st)
		}
	}
	return p.popSlow(cpu, countOff, arrOff, capacity, st)
}

func (p *PerCPU) popSlow(cpu int, countOff, arrOff uintptr, capacity int, first int) (uint64, int, Result) {
	if p.useEngine() && retryable(first) {
		for {
			v, id, st := rsPop(&p.s, cpu, countOff, arrOff, uintptr(capacity))
			if st == stCorrupt {
				corrupt("Pop", v, capacity, id)
			}
			if st <= stFailed || st == stWrongCPU {
				return v, id, result(st)
			}
			if !retryable(st) {
				break
			}
		}
	}
	v, id, st := fbPop(&p.s, cpu, countOff, arrOff, uintptr(capacity))
	if st == stCorrupt {
		corrupt("Pop", v, capacity, id)
	}
	return v, id, result(st)
}

// CopyAndStore copies src (at most MaxCopy bytes) to dstOff in the block of
// cpu and then stores nv into the word at off, if that word holds expect.
// The copy is speculative: it becomes visible through the committing store,
// and a reader that loads the word at off sees either the old value or nv
// with the copied bytes before it. A section interrupted after its compare
// (preempted, migrated, signalled) may leave any prefix of src at dstOff
// without committing, so the destination must be space no reader reads
// until the commit (a Ring writes only a free slot). The destination must
// not cover the word at off.
func (p *PerCPU) CopyAndStore(cpu int, off uintptr, expect uint64, dstOff uintptr, src []byte, nv uint64) (seen uint64, at int, r Result) {
	p.checkIndex(cpu)
	p.checkWord("commit", off)
	n := uintptr(len(src))
	switch {
	case n > MaxCopy:
		panic(fmt.Sprintf("rseq: copy of %d bytes is over MaxCopy (%d)", n, MaxCopy))
	case dstOff > p.s.stride || n > p.s.stride-dstOff:
		panic(fmt.Sprintf("rseq: copy of %d bytes at offset %d does not fit the %d-byte block", n, dstOff, p.s.stride))
	case n > 0 && dstOff < off+8 && off < dstOff+n:
		panic("rseq: the copy destination covers the commit word")
	}
	if p.useEngine() {
		for {
			var sp unsafe.Pointer
			if n > 0 {
				sp = unsafe.Pointer(&src[0])
			}
			v, id, st := rsCopy(&p.s, cpu, off, expect, dstOff, sp, n, nv)
			if st <= stFailed || st == stWrongCPU {
				return v, id, result(st)
			}
			if !retryable(st) {
				break
			}
		}
	}
	v, id, st := fbCopy(&p.s, cpu, off, expect, dstOff, src, nv)
	return v, id, result(st)
}
