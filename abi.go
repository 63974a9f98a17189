package rseq

import (
	"unsafe"

	"github.com/gorseq/rseq/internal/abi"
)

// The kernel's per-thread area, struct rseq (see ../shared/rseq-abi.md and
// the kernel's include/uapi/linux/rseq.h). Offsets in bytes. User space
// writes only rseq_cs (and, with time slice extensions, slice_ctrl.request);
// every other field belongs to the kernel once the area is registered.
//
// The values are internal/abi's; they are declared here too because the
// assembly reads this package's constants (go_asm.h).
const (
	offCPUIDStart = abi.OffCPUIDStart // u32, kernel-owned
	offCPUID      = abi.OffCPUID      // u32, kernel-owned; 0xFFFFFFFF: not registered
	offRseqCS     = abi.OffRseqCS     // u64, user space: address of the current descriptor
	offFlags      = abi.OffFlags      // u32, kernel-written bits only
	offNodeID     = abi.OffNodeID     // u32, kernel-owned (Linux 6.3+)
	offMMCID      = abi.OffMMCID      // u32, kernel-owned (Linux 6.3+)

	// origAreaSize is the length that selects legacy mode; any longer
	// registration asks Linux 7.0+ for the optimized ("V2") mode.
	origAreaSize = abi.OrigAreaSize

	// idUnset is what cpu_id holds before registration (and, in this
	// library's own areas, node_id and mm_cid too).
	idUnset = abi.CPUIDUnset
	// idFailed in cpu_id marks an area whose registration failed (as glibc
	// does); such a thread uses the fallback without asking the kernel again.
	idFailed = abi.CPUIDFailed
)

// Status codes of the critical-section primitives, shared with assembly.
// The first three are final and equal the Result an operation reports.
const (
	stCommitted    = 0 // the committing store ran (Committed)
	stFailed       = 1 // a compare did not hold, or the list was empty/full (Failed)
	stWrongCPU     = 2 // an explicit index was asked for and this thread is elsewhere (NotOnCPU)
	stAborted      = 3 // the kernel aborted the section; retry
	stUnregistered = 4 // no usable area on this thread, or its id is out of range
	stDiverted     = 5 // a fallback operation is running somewhere: use the fallback
	stCorrupt      = 6 // a per-CPU count is larger than its capacity
)

// blocks is the engine's view of per-CPU memory: block i of n begins at
// base + i*stride, and idOff selects which id of the area indexes it
// (offCPUID or offMMCID). Assembly reads it through go_asm.h offsets.
//
// lim is n+1 where critical sections may run on this memory and 0 where
// they may not (no engine in this process, or an index the kernel does not
// maintain): the fast entry points compare an explicit index plus one with
// it, so one compare rejects an index out of range and memory the engine
// must not touch, and send both to the slow path. lastWord is the index of
// a block's last word (stride/8 - 1), for the fast entry points' check of
// an offset (aligned and inside the block).
type blocks struct {
	base     unsafe.Pointer
	stride   uintptr
	n        uintptr
	idOff    uintptr
	lim      uintptr
	lastWord uintptr
}

// cell is one word of per-CPU memory: the word at off of every block of s.
// Structures whose hot path is a single per-CPU add (Counter) hold one and
// update it through rsCellAdd, which reads s and off only (offsets 0 and
// 8). A zero cell (s == nil) is given a word of DefaultSlab(ByCPU) on first
// use (cell.go); s is published after off and own, and read before them.
type cell struct {
	s   *blocks
	off uintptr
	own *cellOwner // the allocation behind s and off (nil while zero)
}

// stack is a per-CPU LIFO of words (FreeList's cache of handles): a count
// word at countOff and capacity words from arrOff, in every block of s.
// rsStackPop and rsStackPush work on the caller's block; the layout is
// checked once, when the stack is made.
type stack struct {
	s        *blocks
	countOff uintptr
	arrOff   uintptr
	capacity uintptr

	// empty and full, when set, finish a pop from an empty cache and a
	// push onto a full one (FreeList: its shared stack behind the
	// caches). rsStackPop and rsStackPush then hand those cases over by a
	// tail call, so that the method calling them is one call and inlines.
	empty func() (uint64, bool)
	full  func(uint64)
}
