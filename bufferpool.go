package rseq

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// BufferPool hands out fixed-size byte buffers carved from one arena
// mapped outside the Go heap, through a FreeList of buffer indices: Get and
// Put touch the current CPU's cache with restartable sequences, allocate
// nothing and give the garbage collector nothing to scan.
//
// The pool guards its buffers: a buffer is never handed out twice while in
// use, and Put panics, with a message that says which, if the buffer is
// not one of this pool's (or was resliced away from its first byte) or is
// not in use (a second Put of the same buffer). Misuse is a bug in the
// program, like unlocking an unlocked sync.Mutex, and continuing would hand
// one buffer to two owners, hence a panic rather than an error. A buffer
// must not be used after its Put.
//
// The arena is unmapped by Close, or when the pool becomes unreachable
// with no buffer handed out. A pool dropped while some of its buffers are
// still out keeps its arena mapped (those buffers may still be in use, and
// nothing tells when they stop being): Close a pool to be sure its memory
// is returned.
//
// All methods but Close are safe for concurrent use. Close must not run
// concurrently with another method; every method called after it panics.
type BufferPool struct {
	size   int     // bytes of a buffer
	stride uintptr // bytes between buffers: size rounded up to 64
	count  int
	mem    slabMem
	free   *FreeList
	inUse  []uint64 // bit h: buffer h is handed out (atomic)
	clean  runtime.Cleanup

	closeMu sync.Mutex
	closed  atomic.Bool
}

// bufferArena is what the cleanup of an unreachable pool needs: the arena
// and the in-use bits (which say whether any buffer is still out).
type bufferArena struct {
	mem   slabMem
	inUse []uint64
}

// release unmaps the arena of a pool that became unreachable, unless a
// buffer is still handed out.
func (a bufferArena) release() {
	for i := range a.inUse {
		if atomic.LoadUint64(&a.inUse[i]) != 0 {
			return // a buffer is out: it may still be used, keep its memory
		}
	}
	a.mem.unmap()
}

// NewBufferPool maps count buffers (1 to 2^32-1) of size bytes each (at
// least 1), every one aligned to 64 bytes (a cache line), and returns a
// pool holding all of them.
func NewBufferPool(size, count int) (*BufferPool, error) {
	switch {
	case size < 1:
		return nil, fmt.Errorf("rseq: NewBufferPool: buffer size %d bytes (want at least 1)", size)
	case count < 1 || uint64(count) > math.MaxUint32:
		return nil, fmt.Errorf("rseq: NewBufferPool: %d buffers (want 1 to %d)", count, uint64(math.MaxUint32))
	}
	stride := (uintptr(size) + 63) &^ 63
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
		hs[i] = uint32(count - 1 - i) // buffer 0 is the first Get
	}
	free.PutShared(hs...)
	b := &BufferPool{
		size:   size,
		stride: stride,
		count:  count,
		mem:    mem,
		free:   free,
		inUse:  make([]uint64, (count+63)/64),
	}
	b.clean = runtime.AddCleanup(b, bufferArena.release, bufferArena{mem, b.inUse})
	return b, nil
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

// Cap returns the number of buffers the pool owns.
func (b *BufferPool) Cap() int {
	b.live()
	return b.count
}

// Get returns a free buffer of Size bytes (capacity Size too: appending
// past it copies to the Go heap), or nil if every buffer is in use. Its
// contents are whatever its last user left.
func (b *BufferPool) Get() []byte {
	b.live()
	h, ok := b.free.Get()
	if !ok {
		return nil
	}
	if old := atomic.OrUint64(&b.inUse[h/64], 1<<(h%64)); old&(1<<(h%64)) != 0 {
		panic(fmt.Sprintf("rseq: BufferPool: buffer %d handed out twice (free list corrupted)", h))
	}
	return unsafe.Slice((*byte)(unsafe.Add(b.mem.base, uintptr(h)*b.stride)), b.size)
}

// Put gives back a buffer that Get returned (any length or capacity, as
// long as it still starts at the buffer's first byte). It panics if buf is not one of
// this pool's buffers or is not in use.
func (b *BufferPool) Put(buf []byte) {
	b.live()
	h := b.handle(buf)
	if old := atomic.AndUint64(&b.inUse[h/64], ^uint64(1<<(h%64))); old&(1<<(h%64)) == 0 {
		panic(fmt.Sprintf("rseq: BufferPool.Put of buffer %d, which is not in use (put twice?)", h))
	}
	b.free.Put(h)
}

// handle returns the index of buf's buffer, or panics.
func (b *BufferPool) handle(buf []byte) uint32 {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	base := uintptr(b.mem.base)
	if p < base || p-base >= uintptr(b.count)*b.stride {
		panic("rseq: BufferPool.Put of a buffer that does not belong to this pool")
	}
	off := p - base
	if off%b.stride != 0 || cap(buf) > b.size {
		panic(fmt.Sprintf("rseq: BufferPool.Put of a slice that does not start at a buffer of this pool (offset %d into buffer %d)", off%b.stride, off/b.stride))
	}
	return uint32(off / b.stride)
}

// InUse returns the number of buffers handed out and not yet put back.
func (b *BufferPool) InUse() int {
	b.live()
	n := 0
	for i := range b.inUse {
		w := atomic.LoadUint64(&b.inUse[i])
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
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
	b.clean.Stop()
	b.free.Close()
	return b.mem.unmap()
}
