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

// retire gives a mapping's memory back (for a file, stops mapping it) but
// keeps its addresses reserved, inaccessible, until unmap: a late access
// through a stale pointer then faults, instead of landing in whatever the
// next mapping at those addresses holds. Structures whose Close may be
// followed by a racing access (a documented misuse) retire at Close and
// unmap from the cleanup that runs once they are unreachable.
func (m slabMem) retire() error {
	if m.heap || len(m.b) == 0 {
		return nil
	}
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(&m.b[0]), uintptr(len(m.b)), unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED)
	return err
}
