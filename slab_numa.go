package rseq

import (
	"errors"
	"io/fs"
	"os"
	"unsafe"
)

// NUMA placement of slab blocks. On a machine with several nodes, a slab
// indexed ByCPU whose stride is a multiple of the page size, in mmap'd
// memory, gets each CPU's block bound to that CPU's node: the chunk is
// mapped page-aligned (no skew), and before any page is touched each block
// gets an MPOL_PREFERRED policy on its CPU's node (mbind), so its pages
// are allocated there whichever thread touches them first. Placement is
// best effort: a CPU of unknown node, or an mbind the kernel refuses
// (seccomp, ENOSYS), leaves that block under the default (first-touch)
// policy, and SlabStats.Placed counts the blocks that were bound.

// slabLayout decides a slab's stride (stride 0 means the default) and
// whether its blocks are placed on their CPUs' nodes, given the number of
// online nodes, the page size, and whether slab memory is mmap'd. The
// default stride is one page where blocks would be placed, and
// DefaultSlabStride (with its cache-set spreading skew) otherwise.
func slabLayout(stride uintptr, by Indexing, nodes int, page uintptr, mapped bool) (uintptr, bool) {
	numa := nodes > 1 && mapped && by == ByCPU && page > 0 && page <= MaxSlabStride
	if stride == 0 {
		stride = DefaultSlabStride
		if numa {
			stride = page
		}
	}
	return stride, numa && stride%page == 0
}

// pageSize is the page size mbind works in.
var pageSize = uintptr(os.Getpagesize())

// placeBlocks binds block i of a fresh mapping (n blocks of stride bytes at
// the page-aligned base) to the node of CPU i, one mbind per run of
// consecutive CPUs on the same node. It returns the number of blocks bound
// and the first error.
func placeBlocks(base unsafe.Pointer, stride uintptr, n int, cpuNode []int) (placed int, err error) {
	n = min(n, len(cpuNode))
	for cpu := 0; cpu < n; {
		node, run := cpuNode[cpu], 1
		for cpu+run < n && cpuNode[cpu+run] == node {
			run++
		}
		first := cpu
		cpu += run
		if node < 0 {
			continue
		}
		if e := mbindPreferred(unsafe.Add(base, uintptr(first)*stride), uintptr(run)*stride, node); e != nil {
			if err == nil {
				err = e
			}
			if errors.Is(e, errors.ErrUnsupported) || errors.Is(e, fs.ErrPermission) {
				return placed, err // not implemented, or denied: the rest would fail too
			}
			continue
		}
		placed += run
	}
	return placed, err
}
