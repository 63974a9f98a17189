package rseq

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Memory policy constants of mbind(2) and get_mempolicy(2)
// (linux/mempolicy.h); golang.org/x/sys has the syscall numbers but no
// wrappers.
const (
	mpolPreferred = 1      // MPOL_PREFERRED: allocate on the node, else the nearest with memory
	mpolFNode     = 1 << 0 // MPOL_F_NODE (get_mempolicy)
	mpolFAddr     = 1 << 1 // MPOL_F_ADDR (get_mempolicy)
)

// mbindPreferred sets the policy of the pages in [addr, addr+length) to
// MPOL_PREFERRED on node, so pages touched later are allocated there. addr
// must be page-aligned. Pages already touched keep their place (no
// MPOL_MF_MOVE).
func mbindPreferred(addr unsafe.Pointer, length uintptr, node int) error {
	if node < 0 {
		return unix.EINVAL
	}
	mask := make([]uint64, node/64+1)
	mask[node/64] = 1 << (node % 64)
	// maxnode is one more than the mask's bits: the kernel has always
	// counted one bit too few, and callers (numactl) pass bits+1.
	maxnode := uintptr(len(mask)*64 + 1)
	_, _, e := unix.Syscall6(unix.SYS_MBIND, uintptr(addr), length, mpolPreferred,
		uintptr(unsafe.Pointer(&mask[0])), maxnode, 0)
	if e != 0 {
		return e
	}
	return nil
}
