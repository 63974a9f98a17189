//go:build linux && (amd64 || arm64) && !race

package rseq

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// How a thread finds its area. The engine's assembly computes it in one
// short sequence, THREAD_AREA (thread_linux_$GOARCH.h), from a per-thread
// key plus areaOff:
//
//   - regLibc, the C library registered every thread: the key is the
//     thread pointer (amd64: 0(FS), glibc's TCB self-pointer; arm64:
//     TPIDR_EL0), areaOff is __rseq_offset. Works on every thread the C
//     library made, including C threads that call into Go.
//   - regOwn, this library registers each thread's area on first use: the
//     key is a word of the Go runtime's per-thread block, m.tls[1], which
//     the runtime never uses on linux/amd64 and linux/arm64. It holds the
//     area minus areaOff (areaOff = &unsetArea), and 0 on a new M, whose
//     sum lands on unsetArea: cpu_id "not registered". In pure Go, amd64
//     reaches it as 0(FS) (the runtime points FS at m.tls[1]) and arm64
//     through g.m (TPIDR_EL0 is 0 there). With a C library, FS and
//     TPIDR_EL0 are the C library's, so both reach it through g.m
//     (areaViaM on amd64, tpMask = 0 on arm64).
//
// An M is one OS thread for its whole life, except the "extra" Ms on
// which C threads call into Go (cgo callbacks): such an M moves to another
// C thread when the first one exits, and a key it kept would lead the new
// thread to the old thread's area. So regOwn never registers from inside
// a cgo callback (inCgoCallback): those operations take the fallback, and
// an extra M's key stays 0.
//
// Both the key and the offsets below are checked at start-up, on this
// thread and on a fresh one (verifyLayout); a runtime that moves these
// fields, or starts using the word, makes the library fall back with
// ReasonRuntimeLayout rather than guess.

// Offsets in the Go runtime's g and m structures (runtime/runtime2.go), the
// same in Go 1.26 and 1.27 on linux/amd64 and linux/arm64. Used by
// assembly through go_asm.h.
const (
	gM = 48 // g: stack (16) + stackguard0 + stackguard1 + _panic + _defer

	// m: g0 (8), morebuf gobuf (48), divmod uint32 (+4 padding), then:
	mG0      = 0
	mProcid  = 64  // uint64, the thread id (minit)
	mGsignal = 72  // *g, whose m points back (mpreinit)
	mTLS     = 128 // after goSigStack (40 bytes) and sigmask ([2]uint32)
	mTLS1    = mTLS + 8
	mCurg    = mTLS + 6*8 + 8 // after tls [6]uintptr and mstartfn
)

// areaViaM (amd64) and tpMask (arm64) select the key, see above. Read by
// assembly.
var (
	areaViaM bool
	tpMask   uintptr
)

// verifyLayout checks, on the calling thread and on a fresh one, that the
// runtime's g and m have the layout above and that m.tls[1] is unused;
// cgo says whether a C library owns the thread pointer.
func verifyLayout(cgo bool) error {
	if err := checkLayoutHere(cgo); err != nil {
		return err
	}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // keeps this thread out of the pool: it exits
		errc <- checkLayoutHere(cgo)
	}()
	return <-errc
}

func checkLayoutHere(cgo bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g := getgp()
	if g == nil {
		return errors.New("no current g")
	}
	word := func(p unsafe.Pointer, off uintptr) unsafe.Pointer {
		return *(*unsafe.Pointer)(unsafe.Add(p, off))
	}
	m := word(g, gM)
	if m == nil {
		return errors.New("g.m is nil")
	}
	if g0 := word(m, mG0); g0 == nil || word(g0, gM) != m {
		return errors.New("g.m.g0.m does not lead back to m")
	}
	if id := *(*uint64)(unsafe.Add(m, mProcid)); id != uint64(unix.Gettid()) {
		return fmt.Errorf("m.procid at %d is %d, not the thread id %d", mProcid, id, unix.Gettid())
	}
	if gs := word(m, mGsignal); gs == nil || word(gs, gM) != m {
		return fmt.Errorf("m.gsignal at %d does not lead back to m", mGsignal)
	}
	if word(m, mCurg) != g {
		return fmt.Errorf("m.curg at %d is not the current g", mCurg)
	}
	if w := *(*uintptr)(unsafe.Add(m, mTLS1)); w != 0 {
		return fmt.Errorf("m.tls[1] is in use (%#x)", w)
	}
	return checkThreadPointer(m, cgo)
}

// inCgoCallback reports whether the calling goroutine runs a cgo callback
// (C called into Go): then its M may be an extra M, which moves between C
// threads, and must not keep a registration key (see above).
func inCgoCallback() bool {
	pcs := make([]uintptr, 64)
	for {
		n := runtime.Callers(1, pcs)
		if n < len(pcs) {
			pcs = pcs[:n]
			break
		}
		pcs = make([]uintptr, 2*len(pcs))
	}
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.Function == "runtime.cgocallbackg" || f.Function == "runtime.cgocallbackg1" {
			return true
		}
		if !more {
			return false
		}
	}
}
