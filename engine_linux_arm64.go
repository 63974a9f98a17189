//go:build !race

package rseq

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gorseq/rseq/internal/abi"
)

// The arm64 half of the engine: its facts (signature; that there is an
// engine here) and its self-check: the instruction words of
// engine_linux_arm64.s. The primitives and buildDescriptors are in
// engine_linux.go.

// stlr encodes STLR Xt, [Xn], the 64-bit store-release every section
// commits with.
func stlr(t, n uint32) []byte {
	return binary.LittleEndian.AppendUint32(nil, 0xc89ffc00|n<<5|t)
}

// archSig is the abort signature: glibc's for arm64 (RSEQ_SIG), the
// instruction word brk #0x45e0, so areas registered by glibc and by this
// library accept the same handlers, and a stray jump to a signature traps.
const archSig = abi.SigARM64

const archEngine = true

// commitStores are the encodings of each primitive's committing store, the
// last instruction of its section (the word before the post-commit marker).
var commitStores = [nPrim][]byte{
	stlr(8, 9),  // rsAdd:  STLR R8, (R9)
	stlr(10, 9), // rsCAS:  STLR R10, (R9)
	stlr(10, 9), // rsCASGuarded: STLR R10, (R9)
	stlr(8, 9),  // rsPop:  STLR R8, (R9)
	stlr(8, 9),  // rsPush: STLR R8, (R9)
	stlr(13, 9), // rsCopy: STLR R13, (R9)
	stlr(8, 9),  // rsAddFast: STLR R8, (R9)
	stlr(8, 9),  // rsCellAdd: STLR R8, (R9)
	stlr(8, 9),  // rsFloatAdd: STLR R8, (R9)
	stlr(8, 9),  // rsStackPop: STLR R8, (R9)
	stlr(8, 9),  // rsStackPush: STLR R8, (R9)
}

// marker returns the marker word with tag 1 (start), 3 (post-commit) or 4
// (end), the tags of engine_linux_amd64.s: ORR XZR, XZR, XZR, LSL #n with
// n = 48 + tag, an instruction that does nothing.
func marker(tag byte) []byte {
	return binary.LittleEndian.AppendUint32(nil, 0xaa1f03ff|uint32(48+tag)<<10)
}

// sigBytes is the signature word before each abort handler: brk #0x45e0.
var sigBytes = binary.LittleEndian.AppendUint32(nil, archSig)

// armingStore decodes the instruction word that ends at code[end]: it must
// be the 64-bit store of a register to offRseqCS(base), the store that
// arms a section (STR Xt, [Xn, #8] in its unsigned-offset or its unscaled
// STUR form). It returns the source and base register numbers, or an error
// saying what is there instead.
func armingStore(code []byte, end int) (src, base int, err error) {
	if end < 4 || end%4 != 0 {
		return 0, 0, fmt.Errorf("no instruction word before offset %d", end)
	}
	w := binary.LittleEndian.Uint32(code[end-4 : end])
	rt, rn := int(w&31), int(w>>5&31)
	switch {
	case w&0xffc00000 == 0xf9000000 && (w>>10&0xfff)*8 == offRseqCS: // STR Xt, [Xn, #imm12*8]
		return rt, rn, nil
	case w&0xffe00c00 == 0xf8000000 && int32(w<<11)>>23 == offRseqCS: // STUR Xt, [Xn, #imm9]
		return rt, rn, nil
	}
	return 0, 0, fmt.Errorf("the instruction before start_ip is %#08x, not the store to rseq_cs (STR Xt, [Xn, #%d])", w, offRseqCS)
}

// findSection scans a primitive's code, one 4-byte instruction at a time,
// for its markers and checks the layout the kernel relies on: start_ip is
// the start marker, right after the store that arms rseq_cs;
// post_commit_ip is the post-commit marker, with the expected commit store
// just before it (so the commit is the last instruction of the section);
// and the signature lies right before abort_ip, after the section.
func findSection(code []byte, entry uintptr, commit []byte) (section, error) {
	if entry%4 != 0 {
		return section{}, fmt.Errorf("entry %#x not 4-byte aligned", entry)
	}
	at := func(pat []byte, from int) int { // the next aligned occurrence
		for i := from; i+4 <= len(code); i += 4 {
			if bytes.Equal(code[i:i+4], pat) {
				return i
			}
		}
		return -1
	}
	end := at(marker(4), 0)
	if end < 0 {
		return section{}, fmt.Errorf("no end marker")
	}
	code = code[:end]
	one := func(what string, pat []byte) (int, error) {
		i := at(pat, 0)
		if i < 0 || at(pat, i+4) >= 0 {
			return 0, fmt.Errorf("%s marker not found exactly once", what)
		}
		return i, nil
	}
	s, err := one("start", marker(1))
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
	start, post, abort := s, p, g+4
	switch {
	case !(start < post && post < abort):
		return section{}, fmt.Errorf("boundaries out of order: start %d post %d abort %d", start, post, abort)
	case !bytes.Equal(code[post-4:post], commit):
		return section{}, fmt.Errorf("the last instruction is % x, not the commit store % x", code[post-4:post], commit)
	}
	return section{entry + uintptr(start), entry + uintptr(post), entry + uintptr(abort)}, nil
}
