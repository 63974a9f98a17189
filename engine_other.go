//go:build !linux || !(amd64 || arm64) || race

package rseq

import (
	"errors"
	"unsafe"
)

// Without an engine (other OS or architecture, race builds) the primitives
// say "not registered" and every operation takes the fallback. engineOn is
// false there, so the wrappers do not even call them.

const archEngine = false

const archSig = 0

var errNoEngine = errors.New("no critical-section engine in this build")

func rsAdd(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int) {
	return 0, -1, stUnregistered
}
func rsCAS(s *blocks, want int, off uintptr, old, nv uint64) (val uint64, id int, st int) {
	return 0, -1, stUnregistered
}
func rsCASGuarded(s *blocks, want int, off uintptr, old, nv uint64, guard *uint64, gval uint64) (val uint64, id int, st int) {
	return 0, -1, stUnregistered
}
func rsPop(s *blocks, want int, off, arrOff, capacity uintptr) (val uint64, id int, st int) {
	return 0, -1, stUnregistered
}
func rsPush(s *blocks, want int, off, arrOff, capacity uintptr, v uint64) (val uint64, id int, st int) {
	return 0, -1, stUnregistered
}
func rsCopy(s *blocks, want int, off uintptr, expect uint64, dstOff uintptr, src unsafe.Pointer, n uintptr, nv uint64) (val uint64, id int, st int) {
	return 0, -1, stUnregistered
}

func rsAddFast(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int) {
	return addSlow(s, want, off, delta)
}
func rsCellAdd(c *cell, delta uint64)              { cellAddSlow(c, delta) }
func rsFloatAdd(s *blocks, off uintptr, v float64) { floatAddSlow(s, off, v) }
func rsStackPop(st *stack) (v uint64, ok bool)     { return stackPopSlow(st) }
func rsStackPush(st *stack, v uint64) (ok bool)    { return stackPushSlow(st, v) }

func readCPU() uint32               { return idUnset }
func readArea32(off uintptr) uint32 { return idUnset }
func currentArea() unsafe.Pointer   { return nil }
func setThreadWord(v uintptr)       {}
func threadWord() uintptr           { return 0 }
func buildDescriptors() error       { return errNoEngine }
func verifyLayout(cgo bool) error   { return errNoEngine }
func inCgoCallback() bool           { return false }

// Read by the engine's assembly where there is one (thread_linux.go).
var (
	areaViaM bool
	tpMask   uintptr
)

func cpuFast() int { return cpuSlow() }
