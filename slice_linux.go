package rseq

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sliceKernelErr remembers a process-wide answer of the kernel (EINVAL: no
// such prctl; ENOTSUPP: not built in or disabled), so later calls do not ask
// again.
var sliceKernelErr atomic.Pointer[NotSupportedError]

// sliceProcessCheck says whether the process as a whole can use the
// extension, from what start-up found and what the kernel already answered.
func sliceProcessCheck() error {
	if !info.Usable {
		return notSupported(featureSlice, info.Reason, "rseq is not used in this process", errors.Unwrap(info.Err))
	}
	if info.Mode != ModeV2 {
		return notSupported(featureSlice, ReasonLegacyMode,
			fmt.Sprintf("areas owned by %v, registered length %d", info.Owner, info.RegisteredLen), nil)
	}
	if e := sliceKernelErr.Load(); e != nil {
		return e
	}
	return nil
}

// sliceThread returns the calling thread's registered area with the
// extension enabled for the thread. The caller has locked the goroutine to
// its thread.
func sliceThread() (unsafe.Pointer, error) {
	if err := sliceProcessCheck(); err != nil {
		return nil, err
	}
	CPU() // registers the thread if it is not yet
	if c := readArea32(offCPUID); c >= idFailed {
		return nil, notSupported(featureSlice, ReasonThreadUnregistered, fmt.Sprintf("cpu_id %#x", c), nil)
	}
	area := currentArea()
	// The kernel sets SLICE_EXT_ENABLED in the area's flags when the prctl
	// enables the thread, and a new thread (a new registration) starts
	// without it: the bit is the per-thread "enabled once" memo.
	if readArea32(offFlags)&flagSliceEnabled != 0 {
		return area, nil
	}
	_, _, e := unix.RawSyscall6(unix.SYS_PRCTL, prRseqSliceExtension, prRseqSliceExtensionSet, prRseqSliceExtEnable, 0, 0, 0)
	switch e {
	case 0:
		return area, nil
	case unix.EINVAL:
		err := notSupported(featureSlice, ReasonNoSliceExtension, "kernel "+info.Kernel, e)
		sliceKernelErr.Store(err)
		return nil, err
	case errnoENOTSUPP:
		// A kernel that offers the extension to a V2 area shows
		// SLICE_EXT_AVAILABLE in its flags at registration.
		err := notSupported(featureSlice, ReasonSliceDisabled,
			fmt.Sprintf("kernel %s, area flags %#x", info.Kernel, readArea32(offFlags)), e)
		sliceKernelErr.Store(err)
		return nil, err
	case unix.ENXIO: // the kernel sees no area for this thread
		return nil, notSupported(featureSlice, ReasonThreadUnregistered, "", e)
	}
	return nil, notSupported(featureSlice, ReasonSliceDenied, "", e)
}

func sliceAvailable() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, err := sliceThread()
	return err
}

func sliceExtension(f func()) (granted bool, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	area, err := sliceThread()
	if err != nil {
		return false, err
	}
	// Deferred, so a panicking f does not leave the request set.
	defer func() { granted = sliceEnd(area) }()
	setSliceRequest(area)
	f()
	return false, nil
}

// sliceEnd clears the request and, if the kernel granted an extension,
// gives the CPU back with rseq_slice_yield.
func sliceEnd(area unsafe.Pointer) bool {
	clearSliceRequest(area)
	if !sliceGranted(area) {
		return false
	}
	sliceGrants.Add(1)
	unix.RawSyscall(sysRseqSliceYield, 0, 0, 0)
	sliceYields.Add(1)
	return true
}
