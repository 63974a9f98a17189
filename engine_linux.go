//go:build linux && (amd64 || arm64) && !race

package rseq

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The primitives, in engine_linux_$GOARCH.s: the same signatures, semantics
// and status codes on every architecture. See the assembly for the
// convention.

//go:noescape
func rsAdd(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)

//go:noescape
func rsCAS(s *blocks, want int, off uintptr, old, nv uint64) (val uint64, id int, st int)

//go:noescape
func rsCASGuarded(s *blocks, want int, off uintptr, old, nv uint64, guard *uint64, gval uint64) (val uint64, id int, st int)

//go:noescape
func rsPop(s *blocks, want int, off, arrOff, capacity uintptr) (val uint64, id int, st int)

//go:noescape
func rsPush(s *blocks, want int, off, arrOff, capacity uintptr, v uint64) (val uint64, id int, st int)

//go:noescape
func rsCopy(s *blocks, want int, off uintptr, expect uint64, dstOff uintptr, src unsafe.Pointer, n uintptr, nv uint64) (val uint64, id int, st int)

// The fast entry points: they finish the operation, jumping to the Go
// function named in their comment for anything their section does not do.

// rsAddFast is PerCPU.Add; its slow path is addSlow.
//
//go:noescape
func rsAddFast(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)

// rsCellAdd adds delta to the caller's word of c; its slow path is
// cellAddSlow. Not noescape: the slow path may keep c (a zero cell's
// cleanup is attached to it), so c must be on the heap or in a global.
func rsCellAdd(c *cell, delta uint64)

// rsFloatAdd adds v to the float64 at off of the caller's block; its slow
// path is floatAddSlow. off must be an aligned word inside the block.
//
//go:noescape
func rsFloatAdd(s *blocks, off uintptr, v float64)

// rsStackPop pops from the caller's block of st (ok false: empty); its
// slow path is stackPopSlow.
//
//go:noescape
func rsStackPop(st *stack) (v uint64, ok bool)

// rsStackPush pushes v onto the caller's block of st (ok false: full); its
// slow path is stackPushSlow.
//
//go:noescape
func rsStackPush(st *stack, v uint64) (ok bool)

//go:noescape
func primEntries(p *[nPrim]unsafe.Pointer)

// sectionDelayBuilt reports whether the primitives were assembled with
// -D=RSEQ_DELAY: then every section spins sectionDelay+1 iterations just
// before its commit. A testing aid (delay_linux_test.go); normal builds
// have no such code.
func sectionDelayBuilt() bool

// sectionGapBuilt reports whether the primitives were assembled with
// -D=RSEQ_GAP: then a spin also sits between the store that arms each
// section and its start_ip, the unprotected window that the layout must
// not have (findSection accepts it only in this build). A testing aid, to
// show that TestUnarmedWindow fails on such a layout.
func sectionGapBuilt() bool

// sectionDelay is the spin count of the delay builds. Read by assembly.
var sectionDelay int64

// unarmedCommits counts, in delay builds only, the sections that reached
// their commit with rseq_cs cleared by the kernel: sections that ran
// unprotected. Incremented by assembly; always 0 in a correct layout.
var unarmedCommits uint64

const nPrim = 11

var primNames = [nPrim]string{"rsAdd", "rsCAS", "rsCASGuarded", "rsPop", "rsPush", "rsCopy", "rsAddFast", "rsCellAdd", "rsFloatAdd", "rsStackPop", "rsStackPush"}

// descs holds the address of each primitive's descriptor (struct rseq_cs,
// 32 bytes, 32-byte aligned, in a page made read-only after start-up).
// Read by assembly.
var descs [nPrim]uintptr

// descMem is the page that holds the descriptors.
var descMem []byte

func descPage() []byte  { return descMem }
func descBase() uintptr { return uintptr(unsafe.Pointer(&descMem[0])) }

// section is where one primitive's boundaries lie.
type section struct {
	start, postCommit, abort uintptr
}

// scanLen is how many bytes of a primitive's code findSection may look at;
// its end marker lies well within.
const scanLen = 2048

// buildDescriptors finds every primitive's section (findSection, per
// architecture), writes its descriptor into a fresh page and makes the page
// read-only.
func buildDescriptors() error {
	var entries [nPrim]unsafe.Pointer
	primEntries(&entries)
	page, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return err
	}
	for k, e := range entries {
		// findSection stops at the end marker, which lies within the
		// function.
		code := unsafe.Slice((*byte)(e), scanLen)
		sec, err := findSection(code, uintptr(e), commitStores[k])
		if err != nil {
			return fmt.Errorf("%s: %w", primNames[k], err)
		}
		d := page[k*32 : k*32+32] // version 0, flags 0
		binary.LittleEndian.PutUint64(d[8:], uint64(sec.start))
		binary.LittleEndian.PutUint64(d[16:], uint64(sec.postCommit-sec.start))
		binary.LittleEndian.PutUint64(d[24:], uint64(sec.abort))
		descs[k] = uintptr(unsafe.Pointer(&d[0]))
	}
	descMem = page
	return unix.Mprotect(page, unix.PROT_READ)
}
