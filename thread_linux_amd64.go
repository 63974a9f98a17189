//go:build !race

package rseq

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

func threadWord() uintptr
func setThreadWord(v uintptr)
func getgp() unsafe.Pointer
func fs0() uintptr
func currentArea() unsafe.Pointer
func readArea32(off uintptr) uint32
func readCPU() uint32

// checkThreadPointer checks the FS base against the layout the key relies
// on (thread_linux.go): in pure Go the runtime points FS just past
// m.tls[0] (runtime·settls), so 0(FS) is m.tls[1]; with a C library FS is
// its thread pointer, whose first word points to itself (the x86-64 TCB).
func checkThreadPointer(m unsafe.Pointer, cgo bool) error {
	var fsbase uintptr
	if _, _, e := unix.RawSyscall(unix.SYS_ARCH_PRCTL, 0x1003 /* ARCH_GET_FS */, uintptr(unsafe.Pointer(&fsbase)), 0); e != 0 {
		return fmt.Errorf("arch_prctl(ARCH_GET_FS): %w", e)
	}
	switch {
	case !cgo && fsbase != uintptr(m)+mTLS+8:
		return fmt.Errorf("FS base %#x is not &m.tls[1] (m at %p)", fsbase, m)
	case cgo && fs0() != fsbase:
		return fmt.Errorf("FS base %#x does not point to itself (0(FS) = %#x): not a C library's thread pointer", fsbase, fs0())
	}
	return nil
}

func cpuFast() int
