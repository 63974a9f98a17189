//go:build !race

package rseq

import (
	"errors"
	"fmt"
	"unsafe"
)

func tpidr() uintptr
func getgp() unsafe.Pointer
func threadWord() uintptr
func setThreadWord(v uintptr)
func currentArea() unsafe.Pointer
func readArea32(off uintptr) uint32
func readCPU() uint32

// checkThreadPointer checks TPIDR_EL0 against the layout the key relies
// on (thread_linux.go): 0 in a pure-Go process (the runtime never sets it
// without cgo, exec clears it, clone copies it: it cannot tell threads
// apart, hence the key in m), the C library's thread pointer with cgo.
func checkThreadPointer(m unsafe.Pointer, cgo bool) error {
	switch tp := tpidr(); {
	case !cgo && tp != 0:
		return fmt.Errorf("TPIDR_EL0 is %#x in a pure-Go process, not 0", tp)
	case cgo && tp == 0:
		return errors.New("TPIDR_EL0 is 0 with a C library linked")
	}
	return nil
}
func cpuFast() int
