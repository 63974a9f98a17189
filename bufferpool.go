package rseq

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// BufferPool hands out fixed-size byte buffers carved from one arena
// mapped outside the Go heap, through a FreeList of buffer indices. Get
// and Put touch the current CPU's cache with one restartable sequence
// each and the buffer's own state word: when that cache has a buffer (Get)
// or room (Put), they allocate nothing, do no atomic read-modify-write
// and write no cache line that another CPU's Gets and Puts write. The
// garbage collector has nothing to scan.
//
// # Running out: New
//
// When every buffer of the pool is in use, Get returns what New makes, as
// sync.Pool does, or nil if New is nil. New's buffers are ordinary Go
// memory: Put accepts them and drops them (the garbage collector frees
// them); they never join the pool. Owns tells the two kinds apart.
//
// # What Put accepts
//
//   - A buffer that Get took from the pool, resliced to any length or
//     capacity as long as it still starts at the buffer's first byte: it
//     goes back to the pool.
//   - A slice of capacity Size that is in no BufferPool (what New made, or
//     a buffer the caller made itself when Get returned nil): it is
//     dropped, left to the garbage collector.
//   - nil: nothing happens, as with sync.Pool.
//
// Anything else panics, with a message that says which: a buffer of this
// pool that is already in it (a second Put), a slice that points into this
// pool's arena but not at the start of a buffer, a buffer of another
// BufferPool, and a slice from elsewhere whose capacity is not Size. Each
// of these is a bug in the program (like unlocking an unlocked
// sync.Mutex), and going on would hand one buffer to two owners or lose
// one, hence a panic rather than an error. A buffer must not be used
// after its Put.
//
// # What the double-Put check sees
//
// Each buffer has a state word of its own, after its last byte and inside
// its own cache lines (no other buffer shares them), which only the
// goroutine holding the buffer writes, with plain loads and stores: Get
// checks "in the pool" and sets "out", Put checks "out" and sets "in the
// pool" before pushing it. So:
//
//   - A second Put that comes after the first (the same goroutine, or
//     another one that synchronized with it, e.g. through a channel)
//     panics, and changes nothing, as long as no Get has handed the
//     buffer out again in between.
//   - A stale Put after the buffer was handed out again (Put, another Get
//     takes it, then the first holder Puts it again) is not detected: it
//     cannot be told from the new holder's Put. Nor is a use of a buffer
//     after its Put. No pool without a generation in every handle can tell.
//   - Two Puts of one buffer that race each other (a data race in the
//     caller) can both pass the check and leave the buffer in the free
//     list twice. The Get that takes the second copy then finds it "out"
//     and panics ("handed out twice"), unless it runs on another CPU so
//     soon after the Get of the first copy that it does not see that
//     Get's store yet. Race builds (-race) make these accesses in Go code
//     the detector instruments, and it reports such a race.
//   - New's buffers are not tracked: a second Put of one is not detected
//     (both Puts drop it).
//
// An atomic compare-and-swap in Put would catch racing Puts every time;
// it was measured at about 2.5 ns more per Get+Put (a quarter more, and
// slower than sync.Pool), for a bug the race detector finds.
//
// # Memory
//
// Each buffer takes Size plus 4 bytes (its state word), rounded up to 64
// (a cache line): 4160 bytes for a 4 KiB buffer. The arena is unmapped by
// Close, or when the pool becomes unreachable with no buffer handed out. A
// pool dropped while some of its buffers are still out keeps its arena
// mapped (those buffers may still be in use, and nothing tells when they
// stop being): Close a pool to be sure its memory is returned.
//
// All methods but Close are safe for concurrent use; New must be set
// before the pool is shared and not changed while Get may run. Close must
// not run concurrently with another method; every method called after it
// panics.
type BufferPool struct {
	// New, if not nil, makes a buffer when every buffer of the pool is in
	// use; Get returns its result. It must return a slice of length and
	// capacity Size (Get panics otherwise), or nil (Get returns nil).
	New func() []byte

	// Read by every Get and Put, written only by NewBufferPool and Close.
	stk      stack          // the free list's per-CPU caches and hooks; a closed marker after Close
	base     unsafe.Pointer // the arena: buffer h at base + h*stride
	stride   uintptr        // bytes from a buffer to the next: size + 4, rounded up to 64
	stateOff uintptr        // offset of a buffer's state word: stride - 4
	lim      uint64         // count; 0 after Close (every Put goes to putOther)
	inv      uint64         // the inverse of stride's odd part, modulo 2^64
	shift    int            // trailing zero bits of stride
	size     int

	count   int
	mem     slabMem
	free    *FreeList
	clean   runtime.Cleanup
	closeMu sync.Mutex
	closed  atomic.Bool
}

// A buffer's state word: zero (the arena's memory as mapped) while it is
// in the pool, bufOut while a Get has handed it out.
const bufOut uint32 = 0x6f7574 // "out"

// bufferArena is what the cleanup of an unreachable pool needs: the arena,
// the free list (which says whether any buffer is still out) and the
// buffer count.
type bufferArena struct {
	mem   slabMem
	free  *FreeList
	count int
}

// release unmaps the arena of a pool that became unreachable, unless a
// buffer is still handed out. Nothing can Get or Put any more: the free
// list's count is exact.
func (a bufferArena) release() {
	n := a.free.Len()
	a.free.Close()
	if n < a.count {
		return // a buffer is out: it may still be used, keep its memory
	}
	forgetArena(a.mem.base)
	a.mem.unmap()
}

// NewBufferPool maps count buffers (1 to 2^32-1) of size bytes each (at
// least 1), every one aligned to 64 bytes (a cache line), and returns a
// pool holding all of them, with no New.
func NewBufferPool(size, count int) (*BufferPool, error) {
	switch {
	case size < 1:
		return nil, fmt.Errorf("rseq: NewBufferPool: buffer size %d bytes (want at least 1)", size)
	case count < 1 || uint64(count) > math.MaxUint32:
		return nil, fmt.Errorf("rseq: NewBufferPool: %d buffers (want 1 to %d)", count, uint64(math.MaxUint32))
	}
	stride := (uintptr(size) + 4 + 63) &^ 63
	if stride < uintptr(size) || uintptr(count) > (math.MaxInt-4096)/stride {
		return nil, fmt.Errorf("rseq: NewBufferPool: %d buffers of %d bytes overflow", count, size)
	}
	mem, err := mapSlab(stride * uintptr(count))
	if err != nil {
		return nil, fmt.Errorf("rseq: NewBufferPool: mapping %d bytes: %w", stride*uintptr(count), err)
	}
	free, err := NewFreeList(0)
	if err != nil {
		mem.unmap()
		return nil, err
	}
	hs := make([]uint32, count)
	for i := range hs {
		hs[i] = uint32(count - 1 - i)
	}
	free.PutShared(hs...)
	shift := bits.TrailingZeros64(uint64(stride))
	b := &BufferPool{
		stk:      free.stk,
		base:     mem.base,
		stride:   stride,
		stateOff: stride - 4,
		lim:      uint64(count),
		inv:      inverseOdd(uint64(stride) >> shift),
		shift:    shift,
		size:     size,
		count:    count,
		mem:      mem,
		free:     free,
	}
	rememberArena(mem.base, stride*uintptr(count))
	b.clean = runtime.AddCleanup(b, bufferArena.release, bufferArena{mem, free, count})
	return b, nil
}

// inverseOdd returns x such that d*x = 1 modulo 2^64, for odd d (Newton's
// iteration: each step doubles the bits that are right; d is its own
// inverse modulo 8).
func inverseOdd(d uint64) uint64 {
	x := d
	for range 5 { // 3, 6, 12, 24, 48, 96 bits
		x *= 2 - d*x
	}
	return x
}

// index returns the buffer that starts off bytes into the arena, or a
// number >= b.lim if off is not a multiple of the stride below lim
// strides. With stride = d*2^shift (d odd): off = h*stride exactly when
// off*inverse(d), rotated right by shift, is h and h <= (2^64-1)/stride
// (Granlund and Montgomery's test of divisibility); every other off gives
// a larger number, and lim*stride fits in an int.
func (b *BufferPool) index(off uintptr) uint64 {
	return bits.RotateLeft64(uint64(off)*b.inv, -b.shift)
}

// live panics if the pool was closed.
func (b *BufferPool) live() {
	if b.closed.Load() {
		panic("rseq: BufferPool used after Close")
	}
}

// Size returns the size of every buffer in bytes.
func (b *BufferPool) Size() int {
	b.live()
	return b.size
}

// Cap returns the number of buffers the pool owns (New's not counted).
func (b *BufferPool) Cap() int {
	b.live()
	return b.count
}

// Get returns a free buffer of the pool, of Size bytes (capacity Size too:
// appending past it copies to the Go heap). Its contents are whatever its
// last user left. If every buffer is in use, it returns what New makes, or
// nil without New.
func (b *BufferPool) Get() []byte {
	// One section on this CPU's cache; its slow paths handle an empty
	// cache (the free list's getSlow, through the hook b.stk shares with
	// it), aborts, the fallback and use after Close. Then take(h), written
	// out here because it does not inline.
	h, ok := rsStackPop(&b.stk)
	if ok && h < b.lim {
		p := unsafe.Add(b.base, uintptr(h)*b.stride)
		if st := (*uint32)(unsafe.Add(p, b.stateOff)); *st == 0 {
			*st = bufOut
			return unsafe.Slice((*byte)(p), b.size)
		}
	}
	if !ok {
		return b.getSlow()
	}
	return b.take(h) // panics
}

// take hands out buffer h, fresh from the free list, as Get does.
func (b *BufferPool) take(h uint64) []byte {
	if h < b.lim {
		p := unsafe.Add(b.base, uintptr(h)*b.stride)
		if st := (*uint32)(unsafe.Add(p, b.stateOff)); *st == 0 {
			*st = bufOut
			return unsafe.Slice((*byte)(p), b.size)
		}
	}
	b.corrupt(h)
	return nil
}

// getSlow: no free buffer anywhere (rsStackPop already went to the free
// list's shared stack and the other CPUs' caches, through the hook b.stk
// shares with it): make one with New.
func (b *BufferPool) getSlow() []byte {
	if b.New == nil {
		return nil
	}
	buf := b.New()
	if buf != nil && (len(buf) != b.size || cap(buf) != b.size) {
		panic(fmt.Sprintf("rseq: BufferPool.New returned a slice of length %d and capacity %d (want %d and %d)", len(buf), cap(buf), b.size, b.size))
	}
	return buf
}

// corrupt panics: the free list gave h, which is not a buffer or is out.
//
//go:noinline
func (b *BufferPool) corrupt(h uint64) {
	if h >= b.lim {
		panic(fmt.Sprintf("rseq: BufferPool.Get: the free list gave %d, which is not a buffer (%d buffers): memory corrupted", h, b.lim))
	}
	panic(fmt.Sprintf("rseq: BufferPool.Get: buffer %d handed out twice (free list corrupted: two Puts of it raced?)", h))
}

// Put gives back a buffer: one of the pool's (any length or capacity, as
// long as it still starts at the buffer's first byte) goes back to the
// pool; one of Size capacity from outside every pool (what New made) is
// dropped; nil is ignored. It panics on anything else, or on a second Put
// of a pool buffer (see BufferPool).
func (b *BufferPool) Put(buf []byte) {
	off := uintptr(unsafe.Pointer(unsafe.SliceData(buf))) - uintptr(b.base)
	h := b.index(off)
	if h >= b.lim || cap(buf) > b.size {
		b.putOther(buf)
		return
	}
	st := (*uint32)(unsafe.Add(b.base, off+b.stateOff))
	if *st != bufOut {
		b.putTwice(h)
	}
	*st = 0
	rsStackPush(&b.stk, h) // a full cache goes on in the free list's putSlow
}

//go:noinline
func (b *BufferPool) putTwice(h uint64) {
	panic(fmt.Sprintf("rseq: BufferPool.Put of buffer %d, which is already in the pool (put twice?)", h))
}

// putOther: buf is not the start of one of this pool's buffers (or the
// pool is closed).
func (b *BufferPool) putOther(buf []byte) {
	b.live()
	p := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	switch {
	case p == 0:
		return // nil: nothing to give back, as with sync.Pool
	case p-uintptr(b.base) < uintptr(b.count)*b.stride:
		off := p - uintptr(b.base)
		if off%b.stride == 0 {
			panic(fmt.Sprintf("rseq: BufferPool.Put of buffer %d with capacity %d, more than its %d bytes", off/b.stride, cap(buf), b.size))
		}
		panic(fmt.Sprintf("rseq: BufferPool.Put of a slice that does not start at a buffer of this pool (offset %d into buffer %d)", off%b.stride, off/b.stride))
	case inArena(p):
		panic("rseq: BufferPool.Put of a buffer of another BufferPool")
	case cap(buf) != b.size:
		panic(fmt.Sprintf("rseq: BufferPool.Put of a slice of capacity %d that is not the pool's (its buffers and New's have %d)", cap(buf), b.size))
	}
	// Size bytes from elsewhere: New's, or the caller's own. Dropped.
}

// Owns reports whether buf is one of the pool's buffers, as Get returned
// it or resliced to any length or capacity from its first byte: what Put
// takes back into the pool. It says nothing of whether buf is in use, and
// is false for nil and for New's buffers.
func (b *BufferPool) Owns(buf []byte) bool {
	b.live()
	off := uintptr(unsafe.Pointer(unsafe.SliceData(buf))) - uintptr(b.base)
	return b.index(off) < b.lim && cap(buf) <= b.size
}

// InUse returns the number of the pool's buffers handed out and not yet
// put back (New's are not counted). While Gets and Puts run it is
// approximate.
func (b *BufferPool) InUse() int {
	b.live()
	return min(max(b.count-b.free.Len(), 0), b.count)
}

// Close unmaps the arena. It fails, and unmaps nothing, while buffers are
// in use. Every method called afterwards panics; closing twice does
// nothing.
func (b *BufferPool) Close() error {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	if b.closed.Load() {
		return nil
	}
	if n := b.InUse(); n > 0 {
		return fmt.Errorf("rseq: BufferPool.Close: %d buffers in use", n)
	}
	b.closed.Store(true)
	b.lim = 0
	b.stk.s = closedBlocks("BufferPool")
	b.clean.Stop()
	b.free.Close()
	forgetArena(b.mem.base)
	return b.mem.unmap()
}

// arenas lists the address ranges of every BufferPool's arena, so that a
// Put can tell a buffer of another pool (a bug) from one New made. Put
// reads it only for slices that are not its own pool's; it is replaced,
// never changed, under arenasMu.
var (
	arenas   atomic.Pointer[[]arenaRange]
	arenasMu sync.Mutex
)

type arenaRange struct{ base, end uintptr }

func rememberArena(base unsafe.Pointer, n uintptr) {
	arenasMu.Lock()
	defer arenasMu.Unlock()
	var next []arenaRange
	if old := arenas.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, arenaRange{uintptr(base), uintptr(base) + n})
	arenas.Store(&next)
}

func forgetArena(base unsafe.Pointer) {
	arenasMu.Lock()
	defer arenasMu.Unlock()
	old := arenas.Load()
	if old == nil {
		return
	}
	next := make([]arenaRange, 0, len(*old))
	for _, r := range *old {
		if r.base != uintptr(base) {
			next = append(next, r)
		}
	}
	arenas.Store(&next)
}

// inArena reports whether p lies in some BufferPool's arena.
func inArena(p uintptr) bool {
	if rs := arenas.Load(); rs != nil {
		for _, r := range *rs {
			if p >= r.base && p < r.end {
				return true
			}
		}
	}
	return false
}
