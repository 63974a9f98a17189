//go:build !race

package rseq

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gorseq/rseq/internal/abi"
)

// The amd64 half of the engine: its facts (signature; that there is an
// engine here) and its self-check: the byte patterns of
// engine_linux_amd64.s. The primitives and buildDescriptors are in
// engine_linux.go.

// archSig is the abort signature: glibc's for x86 (RSEQ_SIG), so areas
// registered by glibc and by this library accept the same handlers.
const archSig = abi.SigAMD64

const archEngine = true

// commitStores are the encodings of each primitive's committing store, the
// only bytes allowed between its commit marker and its post-commit marker.
var commitStores = [nPrim][]byte{
	{0x4c, 0x89, 0x04, 0x3a},       // MOVQ R8, (DX)(DI*1)
	{0x4c, 0x89, 0x24, 0x3a},       // MOVQ R12, (DX)(DI*1)
	{0x4c, 0x89, 0x24, 0x3a},       // MOVQ R12, (DX)(DI*1)
	{0x4c, 0x89, 0x04, 0x3a},       // MOVQ R8, (DX)(DI*1)
	{0x4c, 0x89, 0x04, 0x3a},       // MOVQ R8, (DX)(DI*1)
	{0x4c, 0x89, 0x14, 0x3a},       // MOVQ R10, (DX)(DI*1)
	{0x4c, 0x89, 0x04, 0x3a},       // rsAddFast: MOVQ R8, (DX)(DI*1)
	{0x4c, 0x01, 0x0c, 0x39},       // rsCellAdd: ADDQ R9, (CX)(DI*1)
	{0xf2, 0x0f, 0x11, 0x04, 0x39}, // rsFloatAdd: MOVSD X0, (CX)(DI*1)
	{0x4c, 0x89, 0x04, 0x39},       // rsStackPop: MOVQ R8, (CX)(DI*1)
	{0x4c, 0x89, 0x04, 0x39},       // rsStackPush: MOVQ R8, (CX)(DI*1)
}

// marker returns the 8-byte tagged NOP of engine_linux_amd64.s.
func marker(tag byte) []byte {
	return []byte{0x0f, 0x1f, 0x84, 0x00, tag, 0x52, 0x53, 0x51}
}

// sigBytes is the trapping ud1 that carries the signature before each
// abort handler.
var sigBytes = []byte{0x0f, 0xb9, 0x3d, 0x53, 0x30, 0x05, 0x53}

// armingStore decodes the instruction that ends at code[end]: it must be
// the 64-bit store of a register to offRseqCS(base), the store that arms
// a section (MOVQ Rsrc, 8(Rbase): REX.W, opcode 0x89, ModRM with an 8- or
// 32-bit displacement and no SIB byte). It returns the source and base
// register numbers, or an error saying what is there instead.
func armingStore(code []byte, end int) (src, base int, err error) {
	try := func(n, dispLen int) (int, int, bool) {
		i := end - n
		if i < 0 {
			return 0, 0, false
		}
		rex, op, modrm := code[i], code[i+1], code[i+2]
		mod, reg, rm := modrm>>6, int(modrm>>3&7), int(modrm&7)
		if rex&0xf8 != 0x48 || op != 0x89 || rm == 4 {
			return 0, 0, false
		}
		var disp int64
		switch {
		case mod == 1 && dispLen == 1:
			disp = int64(int8(code[i+3]))
		case mod == 2 && dispLen == 4:
			disp = int64(int32(binary.LittleEndian.Uint32(code[i+3:])))
		default:
			return 0, 0, false
		}
		if disp != offRseqCS {
			return 0, 0, false
		}
		return reg | int(rex>>2&1)<<3, rm | int(rex&1)<<3, true
	}
	if s, b, ok := try(4, 1); ok {
		return s, b, nil
	}
	if s, b, ok := try(7, 4); ok {
		return s, b, nil
	}
	lo := max(end-8, 0)
	return 0, 0, fmt.Errorf("the instruction before start_ip is not the store to rseq_cs (MOVQ reg, %d(reg)): bytes before it % x", offRseqCS, code[lo:end])
}

// findSection scans a primitive's code for its markers and checks the
// layout the kernel relies on: start_ip is the start marker, right after
// the store that arms rseq_cs; post_commit_ip is the post-commit marker,
// with only the expected commit store between the commit marker and it
// (so the commit is the last instruction of the section); the signature
// lies right before abort_ip, after the section.
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
	if !sectionGapBuilt() { // the gap test build has a spin there on purpose
		if _, _, err := armingStore(code, s); err != nil {
			return section{}, err
		}
	}
	start, commitAt, post, abort := s, c+8, p, g+len(sigBytes)
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
