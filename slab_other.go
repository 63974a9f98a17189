//go:build !unix

package rseq

import "unsafe"

// slabMem is a slab chunk's memory, from the Go heap here (no mmap).
type slabMem struct {
	b    []byte
	base unsafe.Pointer
	heap bool
}

func mapSlab(size uintptr) (slabMem, error) { return heapSlab(size) }

func (m slabMem) unmap() error { return nil }
