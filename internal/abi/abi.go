// Package abi is the kernel's rseq ABI as this module uses it, in one
// place: the layout of struct rseq, the auxiliary-vector keys, the rule for
// the registration length, the flags and signatures, and the raw system
// call. Package rseq, internal/kbench and internal/vm/probe all use it.
// The facts behind each value are in the kernel's include/uapi/linux/rseq.h
// and in the project's shared/rseq-abi.md.
package abi

// Offsets in struct rseq, in bytes. User space writes only rseq_cs (and,
// with time slice extensions, the request byte of slice_ctrl); every other
// field belongs to the kernel once the area is registered, and Linux 7.0+
// kills a process that writes one in V2 mode.
const (
	OffCPUIDStart = 0  // u32, kernel
	OffCPUID      = 4  // u32, kernel; CPUIDUnset before registration
	OffRseqCS     = 8  // u64, user space: the current critical-section descriptor
	OffFlags      = 16 // u32; bits 4 and 5 written by the kernel
	OffNodeID     = 20 // u32, kernel (Linux 6.3+)
	OffMMCID      = 24 // u32, kernel (Linux 6.3+)
	OffSliceCtrl  = 28 // u32: byte 0 request (user), byte 1 granted (kernel) (Linux 7.0+)

	// OrigAreaSize is the original length of struct rseq: a registration
	// of exactly this length runs in legacy mode; a longer one asks Linux
	// 7.0+ for the optimized V2 mode.
	OrigAreaSize = 32

	// CPUIDUnset is cpu_id before registration; CPUIDFailed marks an area
	// whose registration failed (the C library writes it).
	CPUIDUnset  = 0xFFFFFFFF
	CPUIDFailed = 0xFFFFFFFE
)

// Auxiliary-vector keys (Linux 6.3+): the size of the fields this kernel
// knows, and the alignment it requires of a longer registration.
const (
	ATFeatureSize = 27
	ATAlign       = 28
)

// Registration flags, and the kernel-written bits of the flags field.
const (
	FlagUnregister        = 1 << 0 // RSEQ_FLAG_UNREGISTER
	FlagSliceExtDefaultOn = 1 << 1 // RSEQ_FLAG_SLICE_EXT_DEFAULT_ON (Linux 7.0+)

	FlagsSliceExtAvailable = 1 << 4 // RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE
	FlagsSliceExtEnabled   = 1 << 5 // RSEQ_CS_FLAG_SLICE_EXT_ENABLED
)

// Abort signatures: glibc's RSEQ_SIG, so that areas registered by glibc and
// by this module accept the same abort handlers. On arm64 it is the
// instruction word brk #0x45e0.
const (
	SigAMD64 = 0x53053053
	SigARM64 = 0xd428bc00
)

// RegistrationLength returns the length to register an area of areaSize
// bytes with: the kernel's feature size rounded up to its alignment, so
// that Linux 7.0+ runs the thread in V2 mode, or OrigAreaSize on kernels
// that report no feature size beyond it (or if the area would be too
// small).
func RegistrationLength(featureSize, align, areaSize int) int {
	if featureSize <= OrigAreaSize {
		return OrigAreaSize
	}
	align = max(align, OrigAreaSize)
	n := (featureSize + align - 1) / align * align
	if n > areaSize {
		return OrigAreaSize
	}
	return n
}
