package rseq

import (
	"fmt"
	"strings"
)

// Info describes what this kernel and this process support, and what the
// library chose. It is computed once, at start-up.
type Info struct {
	// Usable reports that critical sections run as restartable sequences.
	// When false, every operation takes the fallback path (same results,
	// slower) and Reason says why.
	Usable bool
	// Reason is why rseq is not used (ReasonNone when Usable).
	Reason Reason
	// Err is nil when Usable, and otherwise a *NotSupportedError (it
	// matches ErrNotSupported) with Reason, the minimum kernel where one
	// decides it, and the error behind it (the errno of the registration or
	// of membarrier), if any.
	Err error

	// OS and Arch are runtime.GOOS and runtime.GOARCH.
	OS, Arch string
	// Kernel is the kernel release (uname -r), empty where unknown.
	Kernel string
	// Cgo reports that a C library is linked and created the threads.
	Cgo bool
	// Owner says who registers this process's rseq areas.
	Owner Owner
	// RegisteredLen is the length of the registration, in bytes (0 if none).
	RegisteredLen int
	// Mode is the mode the registration length implies on Linux 7.0+.
	Mode Mode
	// Signature is the abort-handler signature of the registration.
	Signature uint32
	// FeatureSize and Align are AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN
	// (0 on kernels before 6.3, which do not report them).
	FeatureSize, Align int
	// NodeID reports that the area's node_id field is maintained (6.3+).
	NodeID bool
	// ConcurrencyID reports that the area's mm_cid field is maintained
	// (6.3+), so structures can be indexed by concurrency id.
	ConcurrencyID bool
	// Fence reports that membarrier's RSEQ fence is available and registered.
	Fence bool
	// PossibleCPUs is the number of CPU ids this kernel may ever use.
	PossibleCPUs int
	// NUMANodes is the number of online NUMA nodes
	// (/sys/devices/system/node/online), 0 where unknown. With more than
	// one, slabs place each CPU's block on its node (see NewSlab).
	NUMANodes int
	// ThreadFailures counts threads that could not register and used the
	// fallback (0 in a healthy process).
	ThreadFailures uint64
}

// Reason says why rseq is not used.
type Reason int

const (
	ReasonNone             Reason = iota // rseq is used
	ReasonNotLinux                       // the OS has no restartable sequences
	ReasonArch                           // no engine for this architecture yet
	ReasonRace                           // race detector build: the fallback keeps every access visible
	ReasonDisabled                       // disabled by the user (GORSEQ=off)
	ReasonNoSyscall                      // the kernel (or an emulator, or seccomp) answers ENOSYS
	ReasonDenied                         // registration refused with EPERM (seccomp) or another error
	ReasonNoFence                        // membarrier RSEQ fences missing (Linux < 5.10, or denied)
	ReasonRuntimeLayout                  // the Go runtime's thread layout is not the one the lookup relies on
	ReasonEngine                         // the engine's self-check of its descriptors failed
	ReasonLibcUnregistered               // the C library's registration of this thread failed
	ReasonBrokenKernel                   // this kernel's rseq is known broken on this architecture (arm64 6.19 to 7.0.13)
	ReasonLibcArea                       // the C library registered rseq, but its area could not be found or proved (static glibc)

	// Reasons a feature built on rseq is not available (NotSupportedError).
	ReasonLegacyMode         // the registration is legacy (32 bytes): time slice extensions need the V2 mode
	ReasonNoSliceExtension   // the kernel has no time slice extensions (prctl answers EINVAL)
	ReasonSliceDisabled      // the kernel answers ENOTSUPP: built without CONFIG_RSEQ_SLICE_EXTENSION, or disabled at boot
	ReasonThreadUnregistered // the calling thread has no registered rseq area
	ReasonSliceDenied        // prctl(PR_RSEQ_SLICE_EXTENSION) refused in another way (seccomp, ...)

	lastReason = ReasonSliceDenied
)

var reasonText = [...]string{
	ReasonNone:               "none",
	ReasonNotLinux:           "not Linux",
	ReasonArch:               "unsupported architecture",
	ReasonRace:               "race detector build",
	ReasonDisabled:           "disabled by the user (GORSEQ=off)",
	ReasonNoSyscall:          "rseq syscall not implemented (ENOSYS: old kernel, emulator or seccomp)",
	ReasonDenied:             "rseq registration denied",
	ReasonNoFence:            "membarrier RSEQ fence unavailable (needs Linux 5.10+)",
	ReasonRuntimeLayout:      "Go runtime thread layout not recognised",
	ReasonEngine:             "critical-section engine failed its self-check",
	ReasonLibcUnregistered:   "the C library's rseq registration failed",
	ReasonBrokenKernel:       "kernel known to break rseq on this architecture (arm64 6.19 to 7.0.13, 7.1-rc1/rc2: sections not aborted on preemption)",
	ReasonLibcArea:           "the C library registered rseq but its area could not be found (a static glibc binary? GLIBC_TUNABLES=glibc.pthread.rseq=0 lets this library register its own)",
	ReasonLegacyMode:         "legacy (32-byte) rseq registration; needs the optimized V2 mode (a longer registration; glibc 2.41+ where glibc registers)",
	ReasonNoSliceExtension:   "the kernel has no time slice extension: prctl(PR_RSEQ_SLICE_EXTENSION) is EINVAL",
	ReasonSliceDisabled:      "the kernel was built without CONFIG_RSEQ_SLICE_EXTENSION, has it disabled at boot (rseq_slice_ext=), or not for this registration (ENOTSUPP)",
	ReasonThreadUnregistered: "the calling thread has no registered rseq area",
	ReasonSliceDenied:        "prctl(PR_RSEQ_SLICE_EXTENSION) refused",
}

func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonText) {
		return reasonText[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Owner says who registers the rseq areas of this process's threads.
type Owner int

const (
	OwnerNone    Owner = iota // nobody: rseq is not used
	OwnerLibc                 // the C library (glibc 2.35+) registered every thread; this library uses its areas
	OwnerLibrary              // this library registers each thread on first use
)

func (o Owner) String() string {
	switch o {
	case OwnerLibc:
		return "libc"
	case OwnerLibrary:
		return "this library"
	}
	return "none"
}

// Mode is the rseq mode a registration asks for. The kernel gives no way to
// read it back: it follows from the registered length on Linux 7.0+, and
// kernels before 6.19 have only legacy mode whatever the length.
type Mode int

const (
	ModeNone   Mode = iota // not registered
	ModeLegacy             // 32-byte registration: IDs rewritten after every switch
	ModeV2                 // longer registration: optimized mode on Linux 7.0+
)

func (m Mode) String() string {
	switch m {
	case ModeLegacy:
		return "legacy (32 bytes)"
	case ModeV2:
		return "optimized V2 (>32 bytes)"
	}
	return "none"
}

func modeFor(length int) Mode {
	switch {
	case length == 0:
		return ModeNone
	case length <= origAreaSize:
		return ModeLegacy
	}
	return ModeV2
}

// String renders the Info as an aligned two-column table.
func (in Info) String() string {
	var b strings.Builder
	row := func(k string, v any) { fmt.Fprintf(&b, "%-16s %v\n", k, v) }
	row("usable", in.Usable)
	if !in.Usable {
		if e, ok := in.Err.(*NotSupportedError); ok && (e.Err != nil || e.MinKernel != "" || e.Detail != "") {
			row("reason", strings.TrimPrefix(e.Error(), "rseq: "+featureRseq+" not supported: "))
		} else {
			row("reason", in.Reason)
		}
	}
	row("platform", in.OS+"/"+in.Arch)
	if in.Kernel != "" {
		row("kernel", in.Kernel)
	}
	row("cgo", in.Cgo)
	row("owner", in.Owner)
	row("registered len", in.RegisteredLen)
	row("mode", in.Mode)
	row("signature", fmt.Sprintf("%#x", in.Signature))
	row("feature size", in.FeatureSize)
	row("alignment", in.Align)
	row("node id", in.NodeID)
	row("concurrency id", in.ConcurrencyID)
	row("fence", in.Fence)
	row("possible CPUs", in.PossibleCPUs)
	row("NUMA nodes", in.NUMANodes)
	row("thread failures", in.ThreadFailures)
	return b.String()
}
