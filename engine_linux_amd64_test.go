//go:build !race

package rseq

import (
	"bytes"
	"testing"
)

// armStore is MOVQ R8, 8(AX), the store that arms every section.
var armStore = []byte{0x4c, 0x89, 0x40, 0x08}

// synthetic builds code laid out like a primitive: entry, arming store,
// start marker, body, commit marker, commit store, post marker, exits,
// signature, abort handler, end marker. gap goes between the arming store
// and the start marker.
func synthetic(commit, sig, gap []byte) []byte {
	var b []byte
	b = append(b, 0x90, 0x90)
	b = append(b, armStore...)
	b = append(b, gap...)
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
	code := synthetic(commitStores[0], sigBytes, nil)
	sec, err := findSection(code, 0x1000, commitStores[0])
	if err != nil {
		t.Fatal(err)
	}
	// start_ip is the start marker, right after the arming store.
	if sec.start != 0x1000+2+4 || sec.postCommit-sec.start != 8+3+8+4 || sec.abort <= sec.postCommit {
		t.Fatalf("section %+v", sec)
	}
}

// TestArmingStoreDecode: the decoder reads the registers from the
// encoding, for the 8- and 32-bit displacement forms.
func TestArmingStoreDecode(t *testing.T) {
	for _, c := range []struct {
		code      []byte
		src, base int
	}{
		{[]byte{0x4c, 0x89, 0x40, 0x08}, 8, 0},                    // MOVQ R8, 8(AX)
		{[]byte{0x48, 0x89, 0x4a, 0x08}, 1, 2},                    // MOVQ CX, 8(DX)
		{[]byte{0x4d, 0x89, 0x53, 0x08}, 10, 11},                  // MOVQ R10, 8(R11)
		{[]byte{0x4c, 0x89, 0x80, 0x08, 0x00, 0x00, 0x00}, 8, 0},  // disp32 form
		{[]byte{0x90, 0x90, 0x4c, 0x89, 0x40, 0x08}, 8, 0},        // after other code
		{[]byte{0x49, 0x89, 0x87, 0x08, 0x00, 0x00, 0x00}, 0, 15}, // MOVQ AX, 8(R15)
	} {
		src, base, err := armingStore(c.code, len(c.code))
		if err != nil || src != c.src || base != c.base {
			t.Errorf("% x: src %d base %d err %v, want %d %d", c.code, src, base, err, c.src, c.base)
		}
	}
	for name, code := range map[string][]byte{
		"nop":               {0x4c, 0x89, 0x40, 0x08, 0x90},
		"load, not store":   {0x4c, 0x8b, 0x40, 0x08},
		"32-bit store":      {0x44, 0x89, 0x40, 0x08},
		"other offset":      {0x4c, 0x89, 0x40, 0x10},
		"SIB addressing":    {0x4c, 0x89, 0x44, 0x24, 0x08},
		"too short":         {0x08},
		"argument load":     {0x4c, 0x89, 0x40, 0x08, 0x4c, 0x8b, 0x54, 0x24, 0x38},
		"marker in the gap": append([]byte{0x4c, 0x89, 0x40, 0x08}, marker(1)...),
	} {
		if _, _, err := armingStore(code, len(code)); err == nil {
			t.Errorf("%s: accepted % x", name, code)
		}
	}
}

// TestFindSectionRejects: the self-check must refuse every layout the
// kernel could not run safely.
func TestFindSectionRejects(t *testing.T) {
	if sectionGapBuilt() {
		t.Skip("the gap test build accepts a gap before start_ip on purpose")
	}
	good := synthetic(commitStores[0], sigBytes, nil)
	cases := map[string][]byte{
		"padding before the commit store": synthetic(append([]byte{0x90}, commitStores[0]...), sigBytes, nil),
		"another commit store":            synthetic(commitStores[5], sigBytes, nil),
		"wrong signature":                 synthetic(commitStores[0], []byte{0x0f, 0xb9, 0x3d, 0x11, 0x22, 0x33, 0x44}, nil),
		"no end marker":                   good[:len(good)-8],
		"start marker twice":              append(append(bytes.Clone(good[:2]), marker(1)...), good[2:]...),
		// The unarmed window of issue 10: an instruction between the
		// store that arms rseq_cs and start_ip.
		"a NOP between arming and start": synthetic(commitStores[0], sigBytes, []byte{0x90}),
		"an argument load between them":  synthetic(commitStores[0], sigBytes, []byte{0x4c, 0x8b, 0x54, 0x24, 0x38}),
		"no arming store before start":   append(append([]byte{0x90, 0x90}, marker(1)...), good[2+4+8:]...),
	}
	for name, code := range cases {
		if _, err := findSection(code, 0x1000, commitStores[0]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
