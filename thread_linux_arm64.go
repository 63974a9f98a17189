//go:build !race

package rseq

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// archSig is the abort signature: glibc's for arm64 (RSEQ_SIG), the
// instruction word brk #0x45e0, so areas registered by glibc and by this
// library accept the same handlers, and a stray jump to a signature traps.
const archSig = 0xd428bc00

const archEngine = true

func tpidr() uintptr
func getgp() unsafe.Pointer
func threadWord() uintptr
func setThreadWord(v uintptr)
func currentArea() unsafe.Pointer
func readArea32(off uintptr) uint32
func readCPU() uint32

// How a thread finds its area on linux/arm64: area = TPIDR_EL0 +
// g.m.tls[1] + areaOff, in every registration mode (thread_linux_arm64.h).
//
// The thread pointer alone cannot be the per-thread key in pure Go: the
// runtime does not set TPIDR_EL0 for its threads without cgo, and clone
// without CLONE_SETTLS copies the creator's value, so a new thread would
// find its creator's area ("zero means unregistered" does not hold once
// any thread has set it). Setting TPIDR_EL0 per thread and storing an
// owner (m or tid) in the area to detect inheritance was the alternative;
// it fails when an M dies and a new M is allocated at the same address,
// or a tid is reused, while a thread still carries a stale copy. A word of
// the M has neither problem: an M is one OS thread for its whole life in
// pure Go, and a new M is zeroed memory. m.tls is the x86 TLS block, never
// touched by the runtime on linux/arm64 (with or without cgo), and slot 1
// is the one this library uses on amd64 as well.
//
// The same sum serves the cgo modes, where TPIDR_EL0 is the C library's
// thread pointer and m.tls[1] stays 0, so one hot path covers all modes.
// Both facts are checked at start-up, on this thread and a fresh one, and
// the offsets with them (verifyPureGoLayout, verifyLibcLayout): a runtime
// that moves these fields, or starts using the slot or the register, makes
// the library fall back with ReasonRuntimeLayout rather than guess.

// Offsets in the Go 1.26 runtime's g and m structures (runtime/runtime2.go)
// on linux/arm64. Used by assembly through go_asm.h.
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

// verifyPureGoLayout checks, on the calling thread and on a fresh one, that
// the pure-Go lookup holds: TPIDR_EL0 is 0, the runtime's m has the layout
// above, and m.tls[1] is unused.
func verifyPureGoLayout() error { return verifyLayout(true) }

// verifyLibcLayout checks the same for the cgo modes, except that
// TPIDR_EL0 is the C library's thread pointer there.
func verifyLibcLayout() error { return verifyLayout(false) }

func verifyLayout(pureGo bool) error {
	if err := checkLayoutHere(pureGo); err != nil {
		return err
	}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // keeps this thread out of the pool: it exits
		errc <- checkLayoutHere(pureGo)
	}()
	return <-errc
}

func checkLayoutHere(pureGo bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if tp := tpidr(); pureGo && tp != 0 {
		return fmt.Errorf("TPIDR_EL0 is %#x in a pure-Go process, not 0", tp)
	} else if !pureGo && tp == 0 {
		return errors.New("TPIDR_EL0 is 0 with a C library linked")
	}
	g := getgp()
	if g == nil {
		return errors.New("no g in R28")
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
	return nil
}
