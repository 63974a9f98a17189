package rseq

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"unsafe"

	"github.com/gorseq/rseq/internal/abi"
	"github.com/gorseq/rseq/internal/libc"
	"golang.org/x/sys/unix"
)

// setup probes the kernel, chooses how threads find their areas, checks the
// engine and registers the start-up thread. On any failure the process uses
// the fallback, and info says why.
func setup() {
	info.OS, info.Arch = runtime.GOOS, runtime.GOARCH
	info.Kernel = kernelRelease()
	info.FeatureSize, info.Align = abi.Auxv()
	info.PossibleCPUs = possibleCPUs()
	info.NUMANodes = len(readNUMAOnline("/sys"))
	info.NodeID = info.FeatureSize >= offNodeID+4
	info.ConcurrencyID = info.FeatureSize >= offMMCID+4
	lc := libc.Read()
	info.Cgo = lc.Linked
	info.Fence = setupFence() == nil
	initStandInAreas()

	fail := func(r Reason, err error) {
		info.Reason, info.Err = r, notSupported(featureRseq, r, "", err)
		info.Owner, info.RegisteredLen, info.Mode, info.Signature = OwnerNone, 0, ModeNone, 0
		info.NodeID, info.ConcurrencyID = false, false
	}
	switch {
	case raceEnabled:
		fail(ReasonRace, nil)
		return
	case !archEngine:
		fail(ReasonArch, nil)
		return
	case os.Getenv("GORSEQ") == "off":
		fail(ReasonDisabled, nil)
		return
	case brokenKernel(runtime.GOARCH, info.Kernel):
		// Registration would succeed and sections would run, but the
		// kernel would not abort them on preemption (kernel.go).
		fail(ReasonBrokenKernel, nil)
		return
	}

	if err := verifyLayout(lc.Linked); err != nil {
		fail(ReasonRuntimeLayout, err)
		return
	}
	if lc.Linked && lc.Registered {
		mode, areaOff, tpMask = regLibc, uintptr(lc.Offset), ^uintptr(0)
		info.Owner = OwnerLibc
	} else {
		mode, areaOff, tpMask = regOwn, uintptr(unsafe.Pointer(&unsetArea)), 0
		areaViaM, cgoOwn = lc.Linked, lc.Linked
		regLen = abi.RegistrationLength(info.FeatureSize, info.Align, areaSlot)
		info.Owner, info.RegisteredLen = OwnerLibrary, regLen
	}
	info.Signature = archSig

	if err := buildDescriptors(); err != nil {
		fail(ReasonEngine, err)
		return
	}
	if !info.Fence {
		fail(ReasonNoFence, setupFence())
		return
	}
	runtime.LockOSThread()
	err := registerCurrent()
	if err == nil && mode == regLibc {
		info.RegisteredLen, err = libcRegistration(lc)
	}
	runtime.UnlockOSThread()
	if err != nil {
		threadFailures.Store(0) // the process as a whole falls back; no thread "failed"
		switch {
		case mode == regLibc && errors.Is(err, errThreadFailed):
			fail(ReasonLibcUnregistered, nil)
		case mode == regLibc:
			fail(ReasonLibcArea, err)
		case errors.Is(err, unix.ENOSYS):
			fail(ReasonNoSyscall, err)
		case lc.Linked && errors.Is(err, unix.EINVAL):
			// Another area is registered for this thread: a C library's
			// whose address this library cannot find (a static glibc).
			why := "the C library did not publish it"
			if lc.Err != nil {
				why = lc.Err.Error()
			} else if lc.Static {
				why = "a static binary has no loader to ask"
			}
			fail(ReasonLibcArea, fmt.Errorf("the thread is registered already, with an area this library cannot locate (%s); rseq(2) refused a second one: %w", why, err))
		default:
			fail(ReasonDenied, err)
		}
		return
	}
	info.Mode = modeFor(info.RegisteredLen)
	info.Usable = true
}

// libcRegistration proves that the C library's area is what the lookup
// says: registering the calling thread's area again, with the length and
// signature the C library used, answers EBUSY exactly when that very
// registration exists (another area: EINVAL; another signature: EPERM).
// The lengths tried are the ones glibc uses: 32 (2.35-2.40), and the
// published size or the kernel's feature size rounded up to the alignment
// (2.41+). It returns the registered length.
func libcRegistration(lc libc.State) (int, error) {
	area := currentArea()
	tried := []int{}
	for _, n := range []int{origAreaSize, int(lc.Size), info.FeatureSize} {
		if n < origAreaSize {
			continue
		}
		length := abi.RegistrationLength(n, info.Align, 1<<20)
		if slices.Contains(tried, length) {
			continue
		}
		tried = append(tried, length)
		e := abi.Register(area, length, 0, archSig)
		switch e {
		case unix.EBUSY:
			return length, nil
		case 0:
			// Nothing was registered after all, and now this library's
			// call registered the C library's memory: undo it at once.
			abi.Register(area, length, abi.FlagUnregister, archSig)
			return 0, fmt.Errorf("__rseq_offset %d and __rseq_size %d describe no registration of this thread", lc.Offset, lc.Size)
		case unix.EPERM:
			return 0, fmt.Errorf("the C library registered its area with another signature than %#x", uint32(archSig))
		}
	}
	return 0, fmt.Errorf("__rseq_offset %d does not locate this thread's registration (tried lengths %v)", lc.Offset, tried)
}
