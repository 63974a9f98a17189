//go:build unix

package rseq

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// slabMem is a slab chunk's memory: an anonymous private mapping, outside
// the Go heap (in race builds, a Go allocation: see heapSlab). base is where the blocks begin, inside b.
type slabMem struct {
	b    []byte
	base unsafe.Pointer
	heap bool // from the Go heap (race builds): nothing to unmap
}

// slabMapped reports that slab memory is mmap'd, so its pages can be
// bound to NUMA nodes (slab_numa.go).
const slabMapped = !raceEnabled

func mapSlab(size uintptr) (slabMem, error) {
	if raceEnabled {
		return heapSlab(size)
	}
	b, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return slabMem{}, err
	}
	return slabMem{b: b, base: unsafe.Pointer(&b[0])}, nil
}

func (m slabMem) unmap() error {
	if m.heap {
		return nil
	}
	return unix.Munmap(m.b)
}
