package rseq

import "unsafe"

// heapSlab returns slab memory from the Go heap: a pointer-free
// allocation, which the garbage collector neither scans nor moves. Used
// where there is no mmap, and in race builds: the race detector tracks
// atomic operations (such as Locks.Unlock's release) only on Go memory, so
// mmap'd memory would hide the happens-before edges they create.
func heapSlab(size uintptr) (slabMem, error) {
	w := make([]uint64, (size+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)
	return slabMem{b: b, base: unsafe.Pointer(&w[0]), heap: true}, nil
}
