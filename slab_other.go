//go:build !unix

package rseq

import "unsafe"

// slabMem is a slab chunk's memory, from the Go heap here (no mmap).
type slabMem struct {
	b    []byte
	base unsafe.Pointer
	heap bool
}

// slabMapped is false: Go heap memory is not placed on NUMA nodes here.
const slabMapped = false

func mapSlab(size uintptr) (slabMem, error) { return heapSlab(size) }

func (m slabMem) unmap() error { return nil }

// retire does nothing here: the memory is the Go heap's.
func (m slabMem) retire() error { return nil }
