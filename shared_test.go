package rseq

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedOrSkip opens a shared structure, or checks that a process without
// the engine refuses with ErrNotSupported and skips.
func sharedOrSkip[T any](t *testing.T, open func() (T, error)) T {
	t.Helper()
	v, err := open()
	if !ReadInfo().Usable {
		if !errors.Is(err, ErrNotSupported) {
			t.Fatalf("opened shared memory without the engine (err %v)", err)
		}
		t.Skipf("shared memory refused, as it must be without the engine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSharedCounterTwoMappings maps one file twice in this process: two
// views at different addresses of the same memory, as two processes have.
func TestSharedCounterTwoMappings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter")
	a := sharedOrSkip(t, func() (*SharedCounter, error) { return OpenSharedCounter(path, nil) })
	defer a.Close()
	b, err := OpenSharedCounter(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v (%v), want 0600", st.Mode(), err)
	}
	ops := opsPerGoroutine() / 4
	n := hammer(t, func(g int) {
		c := a
		if g%2 == 1 {
			c = b
		}
		for range ops {
			c.Inc()
		}
	})
	want := int64(n * ops)
	if got := a.Load(); got != want {
		t.Fatalf("sum %d, want %d", got, want)
	}
	if got := b.Load(); got != want {
		t.Fatalf("second mapping sums %d, want %d", got, want)
	}
}

func TestSharedRingTwoMappings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring")
	a := sharedOrSkip(t, func() (*Ring, error) { return OpenSharedRing(path, 48, 32, nil) })
	defer a.Close()
	b, err := OpenSharedRing(path, 0, 0, nil) // any shape: the file's
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.RecordSize() != 48 || b.Slots() != 32 {
		t.Fatalf("second mapping: %d-byte records, %d slots", b.RecordSize(), b.Slots())
	}
	buf := make([]byte, 48)
	pushed := 0
	for seq := range 20 {
		fillRecord(buf, uint64(seq), 0)
		if a.Push(buf) {
			pushed++
		}
	}
	chk := newRingChecker(t, 1, 20)
	if n := b.Drain(chk.record); n != pushed || a.Len() != 0 {
		t.Fatalf("drained %d through the other mapping, pushed %d; %d left", n, pushed, a.Len())
	}
}

func TestSharedOpenErrors(t *testing.T) {
	requireEngine(t, "shared memory (every open fails without it: TestSharedCounterTwoMappings checks how)")
	dir := t.TempDir()
	cpath := filepath.Join(dir, "counter")
	c, err := OpenSharedCounter(cpath, &SharedOptions{Mode: 0o640})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if st, _ := os.Stat(cpath); st.Mode().Perm() != 0o640&^umask() {
		t.Errorf("file mode %v, want 0640 less the umask", st.Mode())
	}
	rpath := filepath.Join(dir, "ring")
	r, err := OpenSharedRing(rpath, 32, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()

	expectErr := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: opened", what)
		} else {
			t.Logf("%s: %v", what, err)
		}
	}
	_, err = OpenSharedRing(cpath, 32, 8, nil)
	expectErr("a counter as a ring", err)
	_, err = OpenSharedCounter(rpath, nil)
	expectErr("a ring as a counter", err)
	_, err = OpenSharedRing(rpath, 64, 8, nil)
	expectErr("another record size", err)
	_, err = OpenSharedRing(rpath, 32, 16, nil)
	expectErr("another slot count", err)
	_, err = OpenSharedRing(filepath.Join(dir, "new"), 0, 0, nil)
	expectErr("a new ring without a shape", err)
	_, err = OpenSharedRing(filepath.Join(dir, "new2"), 32, 3, nil)
	expectErr("a ring of 3 slots", err)

	// Another CPU count: rewrite the header's, keep everything else valid.
	b, _ := os.ReadFile(cpath)
	binary.LittleEndian.PutUint32(b[shCPUs:], uint32(PossibleCPUs()+1))
	b = append(b, make([]byte, 4096)...) // room for the extra block
	other := filepath.Join(dir, "othercpus")
	os.WriteFile(other, b, 0o600)
	if _, err := parseSharedHeader(b); err != nil {
		t.Fatalf("the doctored header should parse: %v", err)
	}
	_, err = OpenSharedCounter(other, nil)
	expectErr("another CPU count", err)

	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("hello, world: not a shared rseq file at all, but long enough to hold a header"), 0o600)
	_, err = OpenSharedCounter(garbage, nil)
	expectErr("a text file", err)
	tiny := filepath.Join(dir, "tiny")
	os.WriteFile(tiny, []byte("x"), 0o600)
	_, err = OpenSharedCounter(tiny, nil)
	expectErr("a one-byte file", err)
	_, err = OpenSharedCounter(dir, nil)
	expectErr("a directory", err)
	if got, _ := os.ReadFile(garbage); string(got[:5]) != "hello" {
		t.Error("opening rewrote a file that was not ours")
	}
}

func umask() os.FileMode {
	f := filepath.Join(os.TempDir(), "rseq-umask-probe")
	os.Remove(f)
	os.WriteFile(f, nil, 0o777)
	defer os.Remove(f)
	st, err := os.Stat(f)
	if err != nil {
		return 0
	}
	return 0o777 &^ st.Mode().Perm()
}

// TestSharedUsedAfterClose: a closed SharedCounter or shared Ring panics
// on every method, and the file stays intact for its other users.
func TestSharedUsedAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter")
	c := sharedOrSkip(t, func() (*SharedCounter, error) { return OpenSharedCounter(path, nil) })
	other, err := OpenSharedCounter(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c.Add(3)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	for name, f := range map[string]func(){
		"Add":    func() { c.Add(1) },
		"Inc":    c.Inc,
		"Dec":    c.Dec,
		"Load":   func() { c.Load() },
		"String": func() { _ = c.String() },
	} {
		t.Run(name, func(t *testing.T) { mustPanic(t, "rseq: SharedCounter used after Close", f) })
	}
	if got := other.Load(); got != 3 {
		t.Fatalf("the other mapping reads %d, want 3", got)
	}
	q, err := OpenSharedRing(filepath.Join(t.TempDir(), "ring"), 16, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	mustPanic(t, "rseq: Ring used after Close", func() { q.Push(make([]byte, 16)) })
	mustPanic(t, "rseq: Ring used after Close", func() { q.Drain(func(int, []byte) {}) })
}

// TestSharedFileTooLarge: a valid file grown past the largest mapping is
// refused as too large (it was called "not a shared rseq file").
func TestSharedFileTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter")
	c := sharedOrSkip(t, func() (*SharedCounter, error) { return OpenSharedCounter(path, nil) })
	c.Close()
	const size = int64(maxSharedSize + 4096)
	if err := os.Truncate(path, size); err != nil {
		t.Skipf("cannot make a sparse file of %d bytes here: %v", size, err)
	}
	_, err := OpenSharedCounter(path, nil)
	if err == nil || !strings.Contains(err.Error(), "too large") || strings.Contains(err.Error(), "not a shared rseq file") {
		t.Fatalf("open of a %d-byte file: %v, want it refused as too large", size, err)
	}
	t.Log(err)
}
