package main

import (
	"bytes"
	"strconv"
	"testing"
)

// TestCPIOLayout checks the newc framing: every header starts on a 4-byte
// boundary with the magic, parents come before children, and the archive
// ends with the trailer.
func TestCPIOLayout(t *testing.T) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	w.File("/tests/bin/x", 0o755, []byte("abcde"))
	w.CharDev("dev/console", 0o600, 5, 1)
	w.Mkdir("tests", 0o755) // already there: no second entry
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	var names []string
	for off := 0; off < len(b); {
		if off%4 != 0 {
			t.Fatalf("header at unaligned offset %d", off)
		}
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			t.Fatalf("bad magic at %d: %q", off, h[:6])
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return int(v)
		}
		size, namesize := field(6), field(11)
		name := string(b[off+110 : off+110+namesize-1])
		names = append(names, name)
		off = align4(off + 110 + namesize)
		if name == "tests/bin/x" && string(b[off:off+size]) != "abcde" {
			t.Fatalf("file data = %q", b[off:off+size])
		}
		off = align4(off + size)
	}
	want := []string{"tests", "tests/bin", "tests/bin/x", "dev", "dev/console", "TRAILER!!!"}
	if len(names) != len(want) {
		t.Fatalf("entries %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("entries %q, want %q", names, want)
		}
	}
}

func align4(n int) int { return (n + 3) &^ 3 }
