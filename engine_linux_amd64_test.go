//go:build !race

package rseq

import (
	"bytes"
	"testing"
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
