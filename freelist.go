package rseq

import (
	"fmt"
	"runtime"
	"sync"
)

// DefaultFreeListCapacity is the per-CPU cache size of NewFreeList(0).
const DefaultFreeListCapacity = 32

// maxFreeListBatch bounds the handles moved between a CPU's cache and the
// shared stack at once (a stack array, so the moves allocate nothing).
const maxFreeListBatch = 64

// FreeList is a pool of uint32 handles (indices into something the caller
// owns: buffers, slots, objects) built for many goroutines: each CPU keeps
// a LIFO cache of up to Capacity handles, taken and given back by
// restartable sequences (PerCPU.Pop and Push), in front of a shared
// overflow stack under a mutex. A Get on an empty cache moves a batch of
// handles from the shared stack to the cache; a Put on a full cache moves
// half of it to the shared stack. When the shared stack is empty too, Get
// takes a handle from another CPU's cache (PerCPU.PopRemote, slow), so Get
// reports empty only when no handle is free anywhere (or when all free
// handles are being moved by concurrent Puts at that instant).
//
// The list does not check its handles: putting one twice makes Get return
// it twice. BufferPool adds that check. All methods but Close are safe for
// concurrent use; every method called after Close panics.
type FreeList struct {
	stk      stack // the per-CPU caches, for rsStackPop and rsStackPush
	ref      Ref
	p        *PerCPU
	countOff uintptr // per CPU: handles cached
	arrOff   uintptr // per CPU: the cache, capacity words
	capacity int
	batch    int
	clean    runtime.Cleanup

	mu     sync.Mutex
	shared []uint32
}

// NewFreeList returns an empty list whose per-CPU caches hold capacity
// handles (0 means DefaultFreeListCapacity), in DefaultSlab(ByCPU): each
// CPU's cache costs 8*(capacity+1) bytes.
func NewFreeList(capacity int) (*FreeList, error) {
	if capacity == 0 {
		capacity = DefaultFreeListCapacity
	}
	s, err := DefaultSlab(ByCPU)
	if err != nil {
		return nil, err
	}
	// A cache of capacity handles and its count fill capacity+1 words of
	// one block of the slab.
	maxCap := int(s.Stride()/8) - 1
	switch {
	case capacity < 0:
		return nil, fmt.Errorf("rseq: NewFreeList: negative capacity %d (want 1 to %d handles per CPU, or 0 for %d)", capacity, maxCap, DefaultFreeListCapacity)
	case capacity > maxCap:
		return nil, fmt.Errorf("rseq: NewFreeList: capacity %d is too large: a CPU's cache holds at most %d handles (one slab block)", capacity, maxCap)
	}
	r, err := s.Alloc(capacity + 1)
	if err != nil {
		return nil, err
	}
	f := &FreeList{
		stk:      newStack(r, capacity),
		ref:      r,
		p:        r.PerCPU(),
		countOff: r.Off(),
		arrOff:   r.Off() + 8,
		capacity: capacity,
		batch:    max(1, min(capacity/2, maxFreeListBatch)),
	}
	f.hookShared()
	f.clean = runtime.AddCleanup(f, freeRef, r)
	return f, nil
}

// pc returns the caches' PerCPU, or panics after Close.
func (f *FreeList) pc() *PerCPU {
	if f.p == nil {
		panic("rseq: FreeList used after Close")
	}
	return f.p
}

// Capacity returns the number of handles each CPU's cache holds.
func (f *FreeList) Capacity() int {
	f.pc()
	return f.capacity
}

// hookShared makes the caches' empty and full cases go to the shared
// stack (getSlow, putSlow) from inside rsStackPop and rsStackPush, so that
// Get and Put are one call each and inline.
func (f *FreeList) hookShared() {
	f.stk.empty = func() (uint64, bool) {
		h, ok := f.getSlow()
		return uint64(h), ok
	}
	f.stk.full = func(v uint64) { f.putSlow(uint32(v)) }
}

// Get takes a free handle. ok is false if none is free.
func (f *FreeList) Get() (h uint32, ok bool) {
	// One section on this CPU's cache; an empty cache, aborts, the
	// fallback and use after Close go on in its slow paths (getSlow for
	// the first). &f.stk keeps f alive meanwhile.
	v, ok := rsStackPop(&f.stk)
	return uint32(v), ok
}

func (f *FreeList) getSlow() (uint32, bool) {
	var buf [maxFreeListBatch]uint32
	f.mu.Lock()
	n := min(len(f.shared), f.batch)
	copy(buf[:n], f.shared[len(f.shared)-n:])
	f.shared = f.shared[:len(f.shared)-n]
	f.mu.Unlock()
	if n > 0 {
		f.refill(buf[1:n])
		return buf[0], true
	}
	// Nothing shared: take one from whichever CPU caches some.
	// The count is read first: PopRemote stops every CPU for a moment.
	for cpu := 0; cpu < f.p.Len(); cpu++ {
		if f.p.Load(cpu, f.countOff) == 0 {
			continue
		}
		if v, r := f.p.PopRemote(cpu, f.countOff, f.arrOff, f.capacity); r == Committed {
			return uint32(v), true
		}
	}
	return 0, false
}

// refill caches hs on the current CPU; what does not fit goes back to the
// shared stack.
func (f *FreeList) refill(hs []uint32) {
	for i, h := range hs {
		if _, _, r := f.p.Push(Current, f.countOff, f.arrOff, f.capacity, uint64(h)); r != Committed {
			f.mu.Lock()
			f.shared = append(f.shared, hs[i:]...)
			f.mu.Unlock()
			return
		}
	}
}

// Put gives back a handle.
func (f *FreeList) Put(h uint32) {
	rsStackPush(&f.stk, uint64(h)) // a full cache goes on in putSlow
}

// putSlow: this CPU's cache is full; move h and up to a batch of the
// cache to the shared stack.
func (f *FreeList) putSlow(h uint32) {
	var buf [maxFreeListBatch]uint32
	buf[0] = h
	n := 1
	for n < f.batch {
		v, _, r := f.p.Pop(Current, f.countOff, f.arrOff, f.capacity)
		if r != Committed {
			break
		}
		buf[n] = uint32(v)
		n++
	}
	f.mu.Lock()
	f.shared = append(f.shared, buf[:n]...)
	f.mu.Unlock()
}

// PutShared gives back many handles at once, to the shared stack (for
// filling a new list).
func (f *FreeList) PutShared(hs ...uint32) {
	f.pc()
	f.mu.Lock()
	f.shared = append(f.shared, hs...)
	f.mu.Unlock()
}

// Len returns the number of free handles: the shared stack's plus every
// CPU's cache. With concurrent Gets and Puts it is approximate.
func (f *FreeList) Len() int {
	n := 0
	for cpu := 0; cpu < f.pc().Len(); cpu++ {
		n += int(f.p.Load(cpu, f.countOff))
	}
	f.mu.Lock()
	n += len(f.shared)
	f.mu.Unlock()
	runtime.KeepAlive(f)
	return n
}

// Close returns the caches' memory to the slab; the handles in them are
// forgotten. Close must not run concurrently with another method; every
// method called afterwards panics. Closing twice does nothing.
func (f *FreeList) Close() {
	if f.p == nil {
		return
	}
	f.clean.Stop()
	freeRef(f.ref)
	f.ref, f.p = Ref{}, nil
	f.stk.s = closedBlocks("FreeList")
}
