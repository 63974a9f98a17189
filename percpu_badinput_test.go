package rseq

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"
)

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		s, _ := r.(string)
		if e, ok := r.(error); ok {
			s = e.Error()
		}
		if !strings.Contains(s, want) {
			t.Fatalf("panic %v, want one mentioning %q", r, want)
		}
	}()
	f()
}

func TestNewPerCPUErrors(t *testing.T) {
	mem := make([]uint64, 64)
	base := unsafe.Pointer(&mem[0])
	for _, c := range []struct {
		name   string
		base   unsafe.Pointer
		stride uintptr
		n      int
		by     Indexing
	}{
		{"nil base", nil, 64, 1, ByCPU},
		{"misaligned base", unsafe.Add(base, 4), 64, 1, ByCPU},
		{"stride not a multiple of 8", base, 60, 1, ByCPU},
		{"zero stride", base, 0, 1, ByCPU},
		{"no blocks", base, 64, 0, ByCPU},
		{"unknown index", base, 64, 1, Indexing(9)},
	} {
		if _, err := NewPerCPU(c.base, c.stride, c.n, c.by); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestBadArgumentsPanicUntouched: every bad argument panics with a message
// and leaves the memory exactly as it was.
func TestBadArgumentsPanicUntouched(t *testing.T) {
	const stride = 128
	n := PossibleCPUs()
	mem := make([]byte, stride*n)
	for i := range mem {
		mem[i] = byte(i*7 + 1)
	}
	orig := bytes.Clone(mem)
	p, err := NewPerCPU(unsafe.Pointer(&mem[0]), stride, n, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	guards := make([]uint64, 2)
	big := make([]byte, MaxCopy+1)
	cases := []struct {
		want string
		f    func()
	}{
		{"not an aligned word", func() { p.Add(Current, 4, 1) }},
		{"not an aligned word", func() { p.Add(Current, stride, 1) }},
		{"out of range", func() { p.Add(n, 0, 1) }},
		{"out of range", func() { p.Add(-2, 0, 1) }},
		{"out of range", func() { p.CompareAndSwap(n+5, 0, 0, 1) }},
		{"not an aligned word", func() { p.CompareAndSwap(Current, 3, 0, 1) }},
		{"guard", func() { p.CompareAndSwapGuarded(Current, 0, 0, 1, nil, 0) }},
		{"guard", func() {
			p.CompareAndSwapGuarded(Current, 0, 0, 1, (*uint64)(unsafe.Add(unsafe.Pointer(&guards[0]), 4)), 0)
		}},
		{"does not fit", func() { p.Push(Current, 0, 8, 16, 1) }},
		{"does not fit", func() { p.Pop(Current, 0, 12, 2) }},
		{"inside the array", func() { p.Push(Current, 16, 8, 4, 1) }},
		{"over MaxCopy", func() { p.CopyAndStore(Current, 0, 0, 8, big, 1) }},
		{"does not fit", func() { p.CopyAndStore(Current, 0, 0, 100, make([]byte, 40), 1) }},
		{"covers the commit word", func() { p.CopyAndStore(Current, 16, 0, 8, make([]byte, 16), 1) }},
		{"out of range", func() { p.Load(n, 0) }},
	}
	for _, c := range cases {
		mustPanic(t, c.want, c.f)
	}
	if !bytes.Equal(mem, orig) {
		t.Fatal("a rejected call changed memory")
	}
}
