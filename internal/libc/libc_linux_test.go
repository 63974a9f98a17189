//go:build linux

package libc

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestRead: Read agrees with the Go runtime about a C library, and finds
// nothing without one.
func TestRead(t *testing.T) {
	s := Read()
	t.Logf("%+v", s)
	if s.Linked != iscgo {
		t.Fatalf("Linked %v, runtime says iscgo %v", s.Linked, iscgo)
	}
	if !s.Linked && (s.Found || s.Registered) {
		t.Fatalf("no C library, yet %+v", s)
	}
}

// TestLookupInLoader looks up the loader's __rseq_offset and __rseq_size
// in this process (a cgo test binary: go test -tags libccgo, see
// cgo_test.go) and checks the answers against readelf's table.
func TestLookupInLoader(t *testing.T) {
	if !iscgo {
		t.Skip("this test binary has no dynamic loader (built without cgo); the cgo test variants run this test")
	}
	base := auxv(atBase)
	if base == 0 {
		t.Skip("static binary: no loader")
	}
	m, err := openImage(base)
	if err != nil {
		t.Fatal(err)
	}
	interp := loaderPath(t)
	out, err := exec.Command("readelf", "-Ws", "--dyn-syms", interp).Output()
	if err != nil {
		t.Skipf("readelf: %v", err)
	}
	want := map[string]uint64{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 8 && (strings.HasPrefix(f[7], "__rseq_offset@") || strings.HasPrefix(f[7], "__rseq_size@")) {
			v, _ := strconv.ParseUint(f[1], 16, 64)
			want[f[7][:strings.IndexByte(f[7], '@')]] = v
		}
	}
	for name, size := range map[string]uintptr{"__rseq_offset": 8, "__rseq_size": 4} {
		addr, ok := m.lookup(name, size)
		v, defined := want[name]
		switch {
		case ok != defined:
			t.Errorf("%s: found %v, readelf says defined %v", name, ok, defined)
		case ok && uint64(addr-base) != v:
			t.Errorf("%s at offset %#x, readelf says %#x", name, addr-base, v)
		}
		// Both hash tables give the same answer.
		if m.gnuHash != 0 && m.sysvHs != 0 {
			match := func(i uint32) (uintptr, bool) { return m.symbol(i, name, size) }
			a1, ok1 := m.lookupGNU(name, match)
			a2, ok2 := m.lookupSysV(name, match)
			if a1 != a2 || ok1 != ok2 {
				t.Errorf("%s: GNU hash %#x %v, SysV hash %#x %v", name, a1, ok1, a2, ok2)
			}
		}
	}
	if _, ok := m.lookup("__rseq_no_such_symbol", 8); ok {
		t.Error("found a symbol that does not exist")
	}
	if _, ok := m.lookup("__rseq_offset", 4); ok {
		t.Error("found __rseq_offset with the wrong size")
	}
}

// loaderPath is the program interpreter of this binary (PT_INTERP).
func loaderPath(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("readelf", "-l", exe).Output()
	if err != nil {
		t.Skipf("readelf: %v", err)
	}
	const key = "Requesting program interpreter: "
	s := string(out)
	i := strings.Index(s, key)
	if i < 0 {
		t.Skip("no program interpreter")
	}
	s = s[i+len(key):]
	return s[:strings.IndexByte(s, ']')]
}
