//go:build !race

package rseq

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The primitives, in engine_linux_amd64.s. See there for the convention.

//go:noescape
func rsAdd(s *slots, want int, off uintptr, delta uint64) (val uint64, id int, st int)

//go:noescape
func rsCAS(s *slots, want int, off uintptr, old, nv uint64) (val uint64, id int, st int)

//go:noescape
func rsCAS2(s *slots, want int, off uintptr, old, nv uint64, guard *uint64, gval uint64) (val uint64, id int, st int)

//go:noescape
func rsPop(s *slots, want int, off, arrOff, capacity uintptr) (val uint64, id int, st int)

//go:noescape
func rsPush(s *slots, want int, off, arrOff, capacity uintptr, v uint64) (val uint64, id int, st int)

//go:noescape
func rsCopy(s *slots, want int, off uintptr, expect uint64, dstOff uintptr, src unsafe.Pointer, n uintptr, nv uint64) (val uint64, id int, st int)

//go:noescape
func primEntries(p *[nPrim]unsafe.Pointer)

const nPrim = 6

var primNames = [nPrim]string{"rsAdd", "rsCAS", "rsCAS2", "rsPop", "rsPush", "rsCopy"}

// commitStores are the encodings of each primitive's committing store, the
// only bytes allowed between its commit marker and its post-commit marker.
var commitStores = [nPrim][]byte{
	{0x4c, 0x89, 0x04, 0x3a}, // MOVQ R8, (DX)(DI*1)
	{0x4c, 0x89, 0x24, 0x3a}, // MOVQ R12, (DX)(DI*1)
	{0x4c, 0x89, 0x24, 0x3a}, // MOVQ R12, (DX)(DI*1)
	{0x4c, 0x89, 0x04, 0x3a}, // MOVQ R8, (DX)(DI*1)
	{0x4c, 0x89, 0x04, 0x3a}, // MOVQ R8, (DX)(DI*1)
	{0x4c, 0x89, 0x14, 0x3a}, // MOVQ R10, (DX)(DI*1)
}

// descs holds the address of each primitive's descriptor (struct rseq_cs,
// 32 bytes, 32-byte aligned, in a page made read-only after start-up).
// Read by assembly.
var descs [nPrim]uintptr

// descMem is the page that holds the descriptors.
var descMem []byte

func descPage() []byte  { return descMem }
func descBase() uintptr { return uintptr(unsafe.Pointer(&descMem[0])) }

// marker returns the 8-byte tagged NOP of engine_linux_amd64.s.
func marker(tag byte) []byte {
	return []byte{0x0f, 0x1f, 0x84, 0x00, tag, 0x52, 0x53, 0x51}
}

// sigBytes is the trapping ud1 that carries the signature before each
// abort handler.
var sigBytes = []byte{0x0f, 0xb9, 0x3d, 0x53, 0x30, 0x05, 0x53}

// section is where one primitive's boundaries lie.
type section struct {
	start, postCommit, abort uintptr
}

// findSection scans a primitive's code for its markers and checks the
// layout the kernel relies on.
func findSection(code []byte, entry uintptr, commit []byte) (section, error) {
	end := bytes.Index(code, marker(4))
	if end < 0 {
		return section{}, fmt.Errorf("no end marker")
	}
	code = code[:end]
	one := func(what string, pat []byte) (int, error) {
		i := bytes.Index(code, pat)
		if i < 0 || bytes.Index(code[i+1:], pat) >= 0 {
			return 0, fmt.Errorf("%s marker not found exactly once", what)
		}
		return i, nil
	}
	s, err := one("start", marker(1))
	if err != nil {
		return section{}, err
	}
	c, err := one("commit", marker(2))
	if err != nil {
		return section{}, err
	}
	p, err := one("post-commit", marker(3))
	if err != nil {
		return section{}, err
	}
	g, err := one("signature", sigBytes)
	if err != nil {
		return section{}, err
	}
	start, commitAt, post, abort := s+8, c+8, p, g+len(sigBytes)
	switch {
	case !(start < commitAt && commitAt <= post && post < abort):
		return section{}, fmt.Errorf("boundaries out of order: start %d commit %d post %d abort %d", start, commitAt, post, abort)
	case !bytes.Equal(code[commitAt:post], commit):
		return section{}, fmt.Errorf("the last instruction is % x, not the commit store % x", code[commitAt:post], commit)
	case binary.LittleEndian.Uint32(code[abort-4:abort]) != archSig:
		return section{}, fmt.Errorf("no signature before the abort handler")
	}
	return section{entry + uintptr(start), entry + uintptr(post), entry + uintptr(abort)}, nil
}

// buildDescriptors finds every primitive's section, writes its descriptor
// into a fresh page and makes the page read-only.
func buildDescriptors() error {
	var entries [nPrim]unsafe.Pointer
	primEntries(&entries)
	page, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return err
	}
	for k, e := range entries {
		// The end marker lies within the function: scanning stops there.
		code := unsafe.Slice((*byte)(e), 2048)
		if n := bytes.Index(code, marker(4)); n >= 0 {
			code = code[:n+8]
		}
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
