//go:build !race

package rseq

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// archSig is the abort signature: glibc's for x86 (RSEQ_SIG), so areas
// registered by glibc and by this library accept the same handlers.
const archSig = 0x53053053

const archEngine = true

func threadWord() uintptr
func setThreadWord(v uintptr)
func tlsG() unsafe.Pointer
func currentArea() unsafe.Pointer
func readArea32(off uintptr) uint32
func readCPU() uint32

// Offsets in the Go 1.26 runtime's g and m structures that the pure-Go
// lookup relies on (runtime/runtime2.go): g.m, and m.g0 first in m.
const (
	gM   = 48 // stack (16) + stackguard0 + stackguard1 + _panic + _defer
	mG0  = 0
	mMax = 4096 // m.tls lies well inside the first page of m
)

// verifyPureGoLayout checks, on the calling thread and on a fresh one, that
// the runtime keeps its thread block where the pure-Go lookup expects it:
// the FS base (asked from the kernel) is 8 bytes past a slot that holds the
// current g; g.m.g0.m leads back to the same m; the slot lies inside m; and
// m.tls[1] (0(FS)) is zero, so no one else uses it.
func verifyPureGoLayout() error {
	if err := checkLayoutHere(); err != nil {
		return err
	}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // keeps this thread out of the pool: it exits
		errc <- checkLayoutHere()
	}()
	return <-errc
}

func checkLayoutHere() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var fsbase uintptr
	if _, _, e := unix.RawSyscall(unix.SYS_ARCH_PRCTL, 0x1003 /* ARCH_GET_FS */, uintptr(unsafe.Pointer(&fsbase)), 0); e != 0 {
		return fmt.Errorf("arch_prctl(ARCH_GET_FS): %w", e)
	}
	g := tlsG()
	if g == nil {
		return errors.New("no g at -8(FS)")
	}
	m := *(*unsafe.Pointer)(unsafe.Add(g, gM))
	if m == nil {
		return errors.New("g.m is nil")
	}
	g0 := *(*unsafe.Pointer)(unsafe.Add(m, mG0))
	if g0 == nil || *(*unsafe.Pointer)(unsafe.Add(g0, gM)) != m {
		return errors.New("g.m.g0.m does not lead back to m")
	}
	slot := fsbase - 8
	if slot < uintptr(m) || slot >= uintptr(m)+mMax || slot%8 != 0 {
		return fmt.Errorf("FS base %#x is not inside m at %p", fsbase, m)
	}
	if w := threadWord(); w != 0 {
		return fmt.Errorf("m.tls[1] is in use (%#x)", w)
	}
	return nil
}

// verifyLibcLayout: with a C library the lookup reads only the thread
// pointer (0(FS), glibc's TCB self-pointer), nothing of the Go runtime.
func verifyLibcLayout() error { return nil }
