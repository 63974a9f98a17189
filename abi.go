package rseq

import "unsafe"

// The kernel's per-thread area, struct rseq (see ../shared/rseq-abi.md and
// the kernel's include/uapi/linux/rseq.h). Offsets in bytes. User space
// writes only rseq_cs (and, with time slice extensions, slice_ctrl.request);
// every other field belongs to the kernel once the area is registered.
const (
	offCPUIDStart = 0  // u32, kernel-owned
	offCPUID      = 4  // u32, kernel-owned; 0xFFFFFFFF: not registered
	offRseqCS     = 8  // u64, user space: address of the current descriptor
	offFlags      = 16 // u32, kernel-written bits only
	offNodeID     = 20 // u32, kernel-owned (Linux 6.3+)
	offMMCID      = 24 // u32, kernel-owned (Linux 6.3+)

	// origAreaSize is the length that selects legacy mode; any longer
	// registration asks Linux 7.0+ for the optimized ("V2") mode.
	origAreaSize = 32

	// idUnset is what cpu_id holds before registration (and, in this
	// library's own areas, node_id and mm_cid too).
	idUnset = 0xFFFFFFFF
	// idFailed in cpu_id marks an area whose registration failed (as glibc
	// does); such a thread uses the fallback without asking the kernel again.
	idFailed = 0xFFFFFFFE
)

// Status codes of the critical-section primitives, shared with assembly.
const (
	stCommitted    = 0 // the committing store ran
	stFailed       = 1 // a compare did not hold (or the list was empty/full)
	stAborted      = 2 // the kernel aborted the section; retry
	stWrongCPU     = 3 // an explicit index was asked for and this thread is elsewhere
	stUnregistered = 4 // no usable area on this thread, or its id is out of range
	stDiverted     = 5 // a fallback operation is running somewhere: use the fallback
	stCorrupt      = 6 // a per-CPU count is larger than its capacity
)

// slots is the engine's view of per-CPU memory: block i of n begins at
// base + i*stride, and idOff selects which id of the area indexes it
// (offCPUID or offMMCID). Assembly reads it through go_asm.h offsets.
type slots struct {
	base   unsafe.Pointer
	stride uintptr
	n      uintptr
	idOff  uintptr
}
