//go:build !race

package rseq

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"
)

// synthetic builds code laid out like a primitive: entry, start marker,
// body, commit marker, commit store, post marker, exits, signature,
// abort handler, end marker.
func synthetic(commit []byte, sig []byte) []byte {
	var b []byte
	b = append(b, 0x90, 0x90)
	b = append(b, marker(1)...)
	b = append(b, 0x48, 0x8b, 0x03) // body
	b = append(b, marker(2)...)
	b = append(b, commit...)
	b = append(b, marker(3)...)
	b = append(b, 0xc3)
	b = append(b, sig...)
	b = append(b, 0xc3)
	b = append(b, marker(4)...)
	return b
}

func TestFindSectionAcceptsGoodLayout(t *testing.T) {
	code := synthetic(commitStores[0], sigBytes)
	sec, err := findSection(code, 0x1000, commitStores[0])
	if err != nil {
		t.Fatal(err)
	}
	if sec.start != 0x1000+10 || sec.postCommit-sec.start != 3+8+4 || sec.abort <= sec.postCommit {
		t.Fatalf("section %+v", sec)
	}
}

// TestFindSectionRejects: the self-check must refuse every layout the
// kernel could not run safely.
func TestFindSectionRejects(t *testing.T) {
	good := synthetic(commitStores[0], sigBytes)
	cases := map[string][]byte{
		"padding before the commit store": synthetic(append([]byte{0x90}, commitStores[0]...), sigBytes),
		"another commit store":            synthetic(commitStores[5], sigBytes),
		"wrong signature":                 synthetic(commitStores[0], []byte{0x0f, 0xb9, 0x3d, 0x11, 0x22, 0x33, 0x44}),
		"no end marker":                   good[:len(good)-8],
		"start marker twice":              append(append(bytes.Clone(good[:2]), marker(1)...), good[2:]...),
	}
	for name, code := range cases {
		if _, err := findSection(code, 0x1000, commitStores[0]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestDescriptors checks the live descriptors: aligned, version 0, the
// signature right before each abort address, abort outside the section,
// and the commit store as the section's last instruction.
func TestDescriptors(t *testing.T) {
	if !engineOn {
		t.Skip("engine not in use: ", info.Reason)
	}
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
		if !(entry < start && start < post && post <= abort-7) {
			t.Errorf("%s: entry %#x start %#x post %#x abort %#x", primNames[k], entry, start, post, abort)
		}
		sig := unsafe.Slice((*byte)(unsafe.Add(entries[k], abort-4-entry)), 4)
		if binary.LittleEndian.Uint32(sig) != archSig {
			t.Errorf("%s: % x before the abort handler", primNames[k], sig)
		}
		c := commitStores[k]
		last := unsafe.Slice((*byte)(unsafe.Add(entries[k], post-uintptr(len(c))-entry)), len(c))
		if !bytes.Equal(last, c) {
			t.Errorf("%s: section ends with % x", primNames[k], last)
		}
	}
}
