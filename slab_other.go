//go:build !unix

package rseq

import "unsafe"

// slabMem is a slab chunk's memory. Without mmap it is a pointer-free Go
// allocation, which the garbage collector neither scans nor moves.
type slabMem struct {
	b    []byte
	base unsafe.Pointer
}

func mapSlab(size uintptr) (slabMem, error) {
	w := make([]uint64, (size+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)
	return slabMem{b: b, base: unsafe.Pointer(&w[0])}, nil
}

func (m slabMem) unmap() error { return nil }
