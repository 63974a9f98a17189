package rseq

import (
	"errors"
	"os"
	"runtime"
	"unsafe"

	"github.com/gorseq/rseq/internal/libc"
	"golang.org/x/sys/unix"
)

// setup probes the kernel, chooses how threads find their areas, checks the
// engine and registers the start-up thread. On any failure the process uses
// the fallback, and info says why.
func setup() {
	info.OS, info.Arch = runtime.GOOS, runtime.GOARCH
	info.Kernel = kernelRelease()
	info.FeatureSize, info.Align = rseqAuxv()
	info.PossibleCPUs = possibleCPUs()
	info.NUMANodes = len(readNUMAOnline("/sys"))
	info.NodeID = info.FeatureSize >= offNodeID+4
	info.ConcurrencyID = info.FeatureSize >= offMMCID+4
	lc := libc.Read()
	info.Cgo = lc.Linked
	info.Fence = setupFence() == nil
	initStandInAreas()

	fail := func(r Reason, err error) {
		info.Reason, info.Err = r, err
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

	if lc.Linked {
		if err := verifyLibcLayout(); err != nil {
			fail(ReasonRuntimeLayout, err)
			return
		}
	}
	switch {
	case lc.Linked && lc.Registered:
		mode, areaOff = regLibc, uintptr(lc.Offset)
		info.Owner, info.RegisteredLen = OwnerLibc, max(int(lc.Size), origAreaSize)
	case lc.Linked:
		mode, areaOff = regOwnTLS, uintptr(lc.OwnOffset)
		regLen = registrationLength(info.FeatureSize, info.Align, int(lc.OwnSize))
		info.Owner, info.RegisteredLen = OwnerLibrary, regLen
	default:
		if err := verifyPureGoLayout(); err != nil {
			fail(ReasonRuntimeLayout, err)
			return
		}
		mode, areaOff = regPureGo, uintptr(unsafe.Pointer(&unsetArea))
		regLen = registrationLength(info.FeatureSize, info.Align, areaSlot)
		info.Owner, info.RegisteredLen = OwnerLibrary, regLen
	}
	info.Mode = modeFor(info.RegisteredLen)
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
	runtime.UnlockOSThread()
	if err != nil {
		threadFailures.Store(0) // the process as a whole falls back; no thread "failed"
		switch {
		case mode == regLibc:
			fail(ReasonLibcUnregistered, nil)
		case errors.Is(err, unix.ENOSYS):
			fail(ReasonNoSyscall, err)
		default:
			fail(ReasonDenied, err)
		}
		return
	}
	info.Usable = true
}
