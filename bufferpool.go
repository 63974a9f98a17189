package rseq

import (
	"fmt"
	"math"
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
// All methods but Close are safe for concurrent use.
type BufferPool struct {
	size   int     // bytes of a buffer
	stride uintptr // bytes between buffers: size rounded up to 64
	count  int
	mem    slabMem
	free   *FreeList
	inUse  []uint64 // bit h: buffer h is handed out (atomic)

	closeMu sync.Mutex
	closed  bool
}

// NewBufferPool maps count buffers of size bytes each, every one aligned to
// 64 bytes (a cache line), and returns a pool holding all of them.
func NewBufferPool(size, count int) (*BufferPool, error) {
	if size < 1 || count < 1 || uint64(count) > math.MaxUint32 {
		return nil, fmt.Errorf("rseq: NewBufferPool: %d buffers of %d bytes", count, size)
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
	return &BufferPool{
		size:   size,
		stride: stride,
		count:  count,
		mem:    mem,
		free:   free,
		inUse:  make([]uint64, (count+63)/64),
	}, nil
}

// Size returns the size of every buffer in bytes.
func (b *BufferPool) Size() int { return b.size }

// Cap returns the number of buffers the pool owns.
func (b *BufferPool) Cap() int { return b.count }

// Get returns a free buffer of Size bytes (capacity Size too: appending
// past it copies to the Go heap), or nil if every buffer is in use. Its
// contents are whatever its last user left.
func (b *BufferPool) Get() []byte {
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
// in use. The pool must not be used afterwards; closing twice does nothing.
func (b *BufferPool) Close() error {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	if b.closed {
		return nil
	}
	if n := b.InUse(); n > 0 {
		return fmt.Errorf("rseq: BufferPool.Close: %d buffers in use", n)
	}
	b.closed = true
	b.free.Close()
	return b.mem.unmap()
}
