//go:build linux && (amd64 || arm64) && !race

package rseq

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"
)

// TestDescriptors checks the live descriptors: aligned, version 0, the
// signature right before each abort address, abort outside the section,
// and the commit store as the section's last instruction.
func TestDescriptors(t *testing.T) {
	requireEngine(t, "the live descriptors")
	var entries [nPrim]unsafe.Pointer
	primEntries(&entries)
	for k, d := range descs {
		if d%32 != 0 {
			t.Fatalf("%s: descriptor %#x not 32-byte aligned", primNames[k], d)
		}
		raw := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&descPage()[0]), d-descBase())), 32)
		version, flags := binary.LittleEndian.Uint32(raw), binary.LittleEndian.Uint32(raw[4:])
		start := uintptr(binary.LittleEndian.Uint64(raw[8:]))
		post := start + uintptr(binary.LittleEndian.Uint64(raw[16:]))
		abort := uintptr(binary.LittleEndian.Uint64(raw[24:]))
		if version != 0 || flags != 0 {
			t.Errorf("%s: version %d flags %d", primNames[k], version, flags)
		}
		entry := uintptr(entries[k])
		if !(entry < start && start < post && post <= abort-uintptr(len(sigBytes))) {
			t.Errorf("%s: entry %#x start %#x post %#x abort %#x", primNames[k], entry, start, post, abort)
		}
		sig := unsafe.Slice((*byte)(unsafe.Add(entries[k], abort-4-entry)), 4)
		if binary.LittleEndian.Uint32(sig) != archSig {
			t.Errorf("%s: % x before the abort handler", primNames[k], sig)
		}
		if !sectionGapBuilt() {
			code := unsafe.Slice((*byte)(entries[k]), start-entry)
			if _, _, err := armingStore(code, len(code)); err != nil {
				t.Errorf("%s: %v", primNames[k], err)
			}
		}
		c := commitStores[k]
		last := unsafe.Slice((*byte)(unsafe.Add(entries[k], post-uintptr(len(c))-entry)), len(c))
		if !bytes.Equal(last, c) {
			t.Errorf("%s: section ends with % x", primNames[k], last)
		}
	}
}
