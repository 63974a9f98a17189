//go:build !race

package rseq

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
	"unsafe"
)

// word appends instruction words to b.
func words(b []byte, ws ...uint32) []byte {
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

const (
	nop = 0xd503201f
	ret = 0xd65f03c0
	ldr = 0xf9400128 // MOVD (R9), R8
	arm = 0xf9000401 // MOVD R1, 8(R0): the store that arms every section
)

// synthetic builds code laid out like a primitive: entry, arming store,
// start marker, body, commit store, post marker, exits, signature, abort
// handler, end marker. gap goes between the arming store and the start
// marker.
func synthetic(commit []byte, sig []byte, gap ...uint32) []byte {
	b := words(nil, nop, arm)
	b = words(b, gap...)
	b = append(b, marker(1)...)
	b = words(b, ldr) // body
	b = append(b, commit...)
	b = append(b, marker(3)...)
	b = words(b, ret)
	b = append(b, sig...)
	b = words(b, ret)
	return append(b, marker(4)...)
}

func TestMarkerEncodings(t *testing.T) {
	// ORR XZR, XZR, XZR, LSL #n with n = 49, 51, 52 (as in the .s file).
	for tag, want := range map[byte]uint32{1: 0xaa1fc7ff, 3: 0xaa1fcfff, 4: 0xaa1fd3ff} {
		if got := binary.LittleEndian.Uint32(marker(tag)); got != want {
			t.Errorf("marker(%d) = %#x, want %#x", tag, got, want)
		}
	}
	if got := binary.LittleEndian.Uint32(stlr(8, 9)); got != 0xc89ffd28 { // stlr x8, [x9]
		t.Errorf("stlr(8, 9) = %#x", got)
	}
}

func TestFindSectionAcceptsGoodLayout(t *testing.T) {
	code := synthetic(commitStores[0], sigBytes)
	sec, err := findSection(code, 0x1000, commitStores[0])
	if err != nil {
		t.Fatal(err)
	}
	// start_ip is the start marker, right after the arming store.
	if sec.start != 0x1000+8 || sec.postCommit-sec.start != 12 || sec.abort != 0x1000+32 {
		t.Fatalf("section %+v", sec)
	}
}

// TestFindSectionRejects: the self-check must refuse every layout the
// kernel could not run safely.
func TestFindSectionRejects(t *testing.T) {
	if sectionGapBuilt() {
		t.Skip("the gap test build accepts a gap before start_ip on purpose")
	}
	good := synthetic(commitStores[0], sigBytes)
	unaligned := append([]byte{0, 0}, good...)
	cases := map[string][]byte{
		"an instruction after the commit store": synthetic(words(bytes.Clone(commitStores[0]), nop), sigBytes),
		"another commit store":                  synthetic(commitStores[5], sigBytes),
		"a plain store as commit":               synthetic(words(nil, 0xf9000128), sigBytes), // MOVD R8, (R9)
		"wrong signature":                       synthetic(commitStores[0], words(nil, 0xd4200000)),
		"no end marker":                         good[:len(good)-4],
		"start marker twice":                    append(append(bytes.Clone(good[:8]), marker(1)...), good[8:]...),
		"markers off the instruction grid":      unaligned,
		// The unarmed window of issue 10: an instruction between the store
		// that arms rseq_cs and start_ip.
		"a NOP between arming and start":   synthetic(commitStores[0], sigBytes, nop),
		"an argument load between them":    synthetic(commitStores[0], sigBytes, 0xf94013e5), // MOVD 32(RSP), R5
		"no arming store before start":     append(words(nil, nop, nop), good[8:]...),
		"a store to another field instead": append(words(nil, nop, 0xf9000801), good[8:]...), // MOVD R1, 16(R0)
	}
	for name, code := range cases {
		if _, err := findSection(code, 0x1000, commitStores[0]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := findSection(good, 0x1002, commitStores[0]); err == nil {
		t.Errorf("unaligned entry: accepted")
	}
}

// TestArmingStoreDecode: the decoder reads the registers from the
// encoding, in both store forms.
func TestArmingStoreDecode(t *testing.T) {
	for _, c := range []struct {
		w         uint32
		src, base int
	}{
		{0xf9000401, 1, 0},  // STR X1, [X0, #8]
		{0xf9000526, 6, 9},  // STR X6, [X9, #8]
		{0xf80083e1, 1, 31}, // STUR X1, [SP, #8]
	} {
		src, base, err := armingStore(words(nil, nop, c.w), 8)
		if err != nil || src != c.src || base != c.base {
			t.Errorf("%#08x: src %d base %d err %v, want %d %d", c.w, src, base, err, c.src, c.base)
		}
	}
	for name, w := range map[string]uint32{
		"load":          0xf9400401, // LDR X1, [X0, #8]
		"32-bit store":  0xb9000801, // STR W1, [X0, #8]
		"other offset":  0xf9000801, // STR X1, [X0, #16]
		"store-release": 0xc89ffc01, // STLR X1, [X0]
		"nop":           nop,
	} {
		if _, _, err := armingStore(words(nil, w), 4); err == nil {
			t.Errorf("%s (%#08x): accepted", name, w)
		}
	}
}

// TestThreadLookup: on a registered thread the hot path's sum lands on a
// registered area, not on a stand-in, and pure-Go threads have no thread
// pointer. (verifyLayout's "m.tls[1] unused" holds only before the first
// registration, at start-up.)
func TestThreadLookup(t *testing.T) {
	requireEngine(t, "the thread lookup")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := registerCurrent(); err != nil {
		t.Fatal(err)
	}
	area := currentArea()
	if uintptr(area) != threadWord()+areaOff {
		t.Fatalf("currentArea %p, threadWord+areaOff %#x", area, threadWord()+areaOff)
	}
	if area == unsafe.Pointer(&unsetArea) || area == unsafe.Pointer(&failedArea) {
		t.Fatalf("a registered thread finds a stand-in area")
	}
	if cpu := readArea32(offCPUID); cpu >= uint32(PossibleCPUs()) {
		t.Fatalf("cpu_id %d", cpu)
	}
	if mode == regOwn && !cgoOwn && tpidr() != 0 {
		t.Fatalf("TPIDR_EL0 %#x in pure Go", tpidr())
	}
}
