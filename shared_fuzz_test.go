package rseq

import (
	"encoding/binary"
	"testing"
	"unsafe"
)

// sharedSeed returns a valid file image of layout l, truncated or padded to
// size bytes (0: its own size).
func sharedSeed(l sharedLayout, size int) []byte {
	if size == 0 {
		size = int(l.dataSize)
	}
	b := make([]byte, max(size, shFields))
	putSharedHeader(b, l)
	binary.LittleEndian.PutUint64(b[shMagic:], sharedMagic)
	return b[:size]
}

// compactSeed is a valid layout small enough for the fuzzer to mutate
// quickly: the header fields, then the blocks.
func compactSeed(kind uint32, cpus int, stride uint64, rec, slots int) []byte {
	l := sharedLayout{kind: kind, cpus: cpus, stride: stride, dataOff: 128}
	if kind == sharedRingKind {
		l.objOff, l.recSize, l.slots, l.lockOff = ringHdr, rec, slots, 64
	}
	l.dataSize = l.dataOff + uint64(cpus)*stride
	return sharedSeed(l, 0)
}

// FuzzSharedHeader: whatever bytes a shared file holds, parsing gives an
// error or a layout whose every offset lies inside the mapping.
//
//	go test -run '^$' -fuzz '^FuzzSharedHeader$' -fuzztime 60s -fuzzminimizetime 100x .
//
// (With the default -fuzzminimizetime of 60s, minimizing a new input grown
// from the page-sized seeds stalls the workers for most of a minute.) The
// inputs it found interesting are kept in testdata/fuzz/FuzzSharedHeader
// and run by every go test.
func FuzzSharedHeader(f *testing.F) {
	f.Add(sharedSeed(newSharedLayout(sharedCounterKind, 0, 0), 0))
	f.Add(sharedSeed(newSharedLayout(sharedRingKind, 64, 16), 0))
	f.Add(sharedSeed(newSharedLayout(sharedRingKind, 64, 16), 4096+100))
	f.Add(compactSeed(sharedCounterKind, 2, 8, 0, 0))
	f.Add(compactSeed(sharedRingKind, 1, ringHdr+32, 13, 2))
	f.Add(compactSeed(sharedRingKind, 3, ringHdr+8*4, 8, 4))
	f.Add([]byte{})
	f.Add([]byte("gorseqSH"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parseSharedHeader(b)
		if err != nil {
			return
		}
		checkLayoutInside(t, l, uint64(len(b)))
		// A valid header writes back to the same bytes (no field ignored).
		c := make([]byte, shFields)
		putSharedHeader(c, l)
		binary.LittleEndian.PutUint64(c[shMagic:], sharedMagic)
		if string(c) != string(b[:shFields]) {
			t.Fatalf("header % x parses to %+v, which writes back as % x", b[:shFields], l, c)
		}
	})
}

// checkLayoutInside checks, with arithmetic that cannot overflow, that
// every byte a layout lets the structures touch lies inside size bytes.
func checkLayoutInside(t *testing.T, l sharedLayout, size uint64) {
	t.Helper()
	big := func(x uint64) bool { return x > 1<<62 }
	if l.cpus < 1 || l.cpus > maxSharedCPUs || big(l.stride) || big(l.dataOff) {
		t.Fatalf("layout %+v: out of range", l)
	}
	if l.dataOff < shFields || l.dataOff%8 != 0 || l.stride%8 != 0 || l.stride == 0 {
		t.Fatalf("layout %+v: misaligned or overlapping the header", l)
	}
	// The last byte of the last block.
	if uint64(l.cpus) > (1<<62)/l.stride || l.dataOff+uint64(l.cpus)*l.stride > size {
		t.Fatalf("layout %+v: blocks end past the %d-byte mapping", l, size)
	}
	switch l.kind {
	case sharedCounterKind:
		if l.objOff%8 != 0 || l.objOff+8 > l.stride {
			t.Fatalf("layout %+v: counter word outside its block", l)
		}
	case sharedRingKind:
		slot := (uint64(l.recSize) + 7) &^ 7
		if l.recSize < 1 || l.recSize > MaxRingRecord || l.slots < 1 || l.slots&(l.slots-1) != 0 || l.slots > MaxRingSlots {
			t.Fatalf("layout %+v: bad ring shape", l)
		}
		if ringHdr+uint64(l.slots)*slot > l.stride {
			t.Fatalf("layout %+v: slots end past the block", l)
		}
		if l.lockOff < shFields || l.lockOff%8 != 0 || l.lockOff+8 > l.dataOff {
			t.Fatalf("layout %+v: lock word outside the header", l)
		}
	default:
		t.Fatalf("layout %+v: unknown kind accepted", l)
	}
	// The structures can be built on it: NewPerCPU accepts the blocks.
	mem := make([]uint64, (size+7)/8+1)
	if _, err := NewPerCPU(unsafePointerAt(mem, l.dataOff), uintptr(l.stride), l.cpus, ByCPU); err != nil {
		t.Fatalf("layout %+v: NewPerCPU: %v", l, err)
	}
}

func unsafePointerAt(mem []uint64, off uint64) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(&mem[0]), off)
}

// TestSharedHeaderCases: the valid images parse; doctored ones fail.
func TestSharedHeaderCases(t *testing.T) {
	for _, b := range [][]byte{
		sharedSeed(newSharedLayout(sharedCounterKind, 0, 0), 0),
		sharedSeed(newSharedLayout(sharedRingKind, 256, 1024), 0),
		compactSeed(sharedCounterKind, 2, 8, 0, 0),
		compactSeed(sharedRingKind, 1, ringHdr+32, 13, 2),
	} {
		l, err := parseSharedHeader(b)
		if err != nil {
			t.Fatalf("valid image: %v", err)
		}
		checkLayoutInside(t, l, uint64(len(b)))
	}
	good := compactSeed(sharedRingKind, 2, ringHdr+64, 16, 4)
	le := binary.LittleEndian
	for name, doctor := range map[string]func(b []byte){
		"short file":         func(b []byte) {},
		"stride overflows":   func(b []byte) { le.PutUint64(b[shStride:], 1<<63) },
		"cpus*stride wraps":  func(b []byte) { le.PutUint32(b[shCPUs:], 1<<20); le.PutUint64(b[shStride:], 1<<44) },
		"data past the end":  func(b []byte) { le.PutUint64(b[shDataOff:], 1<<40) },
		"data in the header": func(b []byte) { le.PutUint64(b[shDataOff:], 0) },
		"slots past block":   func(b []byte) { le.PutUint32(b[shSlots:], 8) },
		"lock in the data":   func(b []byte) { le.PutUint64(b[shLockOff:], 128) },
		"lock misaligned":    func(b []byte) { le.PutUint64(b[shLockOff:], 65) },
		"first slot moved":   func(b []byte) { le.PutUint64(b[shObjOff:], 64) },
		"zero CPUs":          func(b []byte) { le.PutUint32(b[shCPUs:], 0) },
		"version 1 ring":     func(b []byte) { le.PutUint32(b[shVersion:], 1) },
		"version 3":          func(b []byte) { le.PutUint32(b[shVersion:], 3) },
		"flags":              func(b []byte) { le.PutUint32(b[shFlags:], 1) },
		"kind 3":             func(b []byte) { le.PutUint32(b[shKind:], 3) },
		"record too big":     func(b []byte) { le.PutUint32(b[shRecSize:], MaxRingRecord+1) },
	} {
		b := append([]byte(nil), good...)
		doctor(b)
		if name == "short file" {
			b = b[:len(b)-1]
		}
		if _, err := parseSharedHeader(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
