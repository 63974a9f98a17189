package rseq

import (
	"sync/atomic"
	"unsafe"

	"github.com/gorseq/rseq/internal/abi"
)

// Time slice extensions (Linux 7.0+, CONFIG_RSEQ_SLICE_EXTENSION, V2
// registrations only). See ../shared/rseq-abi.md, "Time slice extensions".
//
// The area's slice_ctrl word (offset 28) is shared with the kernel: user
// space writes only byte 28 (request); byte 29 (granted) is written by the
// kernel and only read here; bytes 30-31 are reserved. The kernel itself
// rewrites the whole word (it clears request when it grants, and clears the
// word when it revokes a grant), which is why this side never stores more
// than the one byte it owns.
const (
	offSliceRequest = abi.OffSliceCtrl     // u8, user space: 1 while a critical section runs
	offSliceGranted = abi.OffSliceCtrl + 1 // u8, kernel-written: an extension was granted

	// Bits of the area's flags word (offset 16), written by the kernel.
	flagSliceAvailable = abi.FlagsSliceExtAvailable
	flagSliceEnabled   = abi.FlagsSliceExtEnabled

	prRseqSliceExtension    = 79 // PR_RSEQ_SLICE_EXTENSION
	prRseqSliceExtensionGet = 1  // PR_RSEQ_SLICE_EXTENSION_GET
	prRseqSliceExtensionSet = 2  // PR_RSEQ_SLICE_EXTENSION_SET
	prRseqSliceExtEnable    = 1  // PR_RSEQ_SLICE_EXT_ENABLE

	sysRseqSliceYield = 471 // rseq_slice_yield, amd64 and arm64 (470 is listns)

	errnoENOTSUPP = 524 // the kernel-internal ENOTSUPP, which this prctl leaks
)

// SliceExtension runs f with the calling thread's request for a time slice
// extension set, and reports whether the kernel granted one while f ran.
//
// With the request set, a thread that would be preempted on return from an
// interrupt (its time slice is up, or a waking thread wants the CPU) gets a
// short extension instead (5 µs by default, at most 50 µs), so a lock held
// in f is not held across a preemption. When f returns the request is
// cleared and, if an extension was granted, the CPU is given back at once
// with rseq_slice_yield(2): granted reports that this happened. An
// extension that ran out before f returned (or that a system call in f
// revoked) ends in an ordinary preemption, and the kernel clears the
// granted flag: granted is false then.
//
// The goroutine is locked to its thread for the duration. The first call on
// a thread enables the extension for it (prctl PR_RSEQ_SLICE_EXTENSION_SET).
//
// Rules for f:
//   - keep it short: a few microseconds; the kernel preempts anyway when the
//     extension runs out;
//   - make no system calls: any system call (other than the final yield)
//     revokes a grant, and blocking (channels, mutexes that sleep, I/O,
//     allocation that triggers GC work) defeats the purpose;
//   - it does not stop signals, page faults or Go's own preemption of the
//     goroutine; it only asks the kernel to delay one preemption.
//
// Where the extension is not available (not Linux, rseq not used, a legacy
// registration, a kernel without the feature or with it disabled) f is not
// called and the error matches ErrNotSupported; see
// SliceExtensionAvailable. Call f yourself in that case.
func SliceExtension(f func()) (granted bool, err error) {
	return sliceExtension(f)
}

// SliceExtensionAvailable reports whether SliceExtension can be used on the
// calling thread: nil, or an error matching ErrNotSupported with the
// reason. On Linux it registers the thread and enables the extension for it
// (a thread that uses SliceExtension is enabled anyway).
func SliceExtensionAvailable() error {
	return sliceAvailable()
}

// Counters for tests: grants seen and rseq_slice_yield calls made.
var sliceGrants, sliceYields atomic.Uint64

// setSliceRequest and clearSliceRequest are the only stores this package
// makes into slice_ctrl: one plain single-byte store to byte 28 each. Go has
// no atomic byte store (sync/atomic stores 32 bits at least, which would
// overwrite the kernel's granted byte), and none is needed: the only other
// party is the kernel, on this very thread, at an interrupt boundary, so
// program order on this CPU is all that counts. What must not happen is the
// compiler moving f's memory operations across the store, or merging the
// set and clear stores. The Go compiler does not move loads or stores
// across a call it has not inlined, so these helpers, kept out of line by
// //go:noinline, act as compiler barriers around f (f is itself an opaque
// call through a func value).
//
//go:noinline
func setSliceRequest(area unsafe.Pointer) {
	*(*uint8)(unsafe.Add(area, offSliceRequest)) = 1
}

//go:noinline
func clearSliceRequest(area unsafe.Pointer) {
	*(*uint8)(unsafe.Add(area, offSliceRequest)) = 0
}

// sliceGranted reads byte 29 (kernel-written). Out of line so the load
// happens after clearSliceRequest's store.
//
//go:noinline
func sliceGranted(area unsafe.Pointer) bool {
	return *(*uint8)(unsafe.Add(area, offSliceGranted)) != 0
}
