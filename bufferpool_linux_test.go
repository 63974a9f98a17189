package rseq

import (
	"runtime"
	"testing"
	"time"
)

// TestBufferPoolDroppedUnmapped: a pool dropped without Close gives its
// arena back once unreachable (100 dropped 4 MiB pools kept 400 MB
// mapped), unless a buffer is still out: that one stays usable.
func TestBufferPoolDroppedUnmapped(t *testing.T) {
	if raceEnabled {
		t.Skip("race builds keep pools in the Go heap")
	}
	var dropped []uintptr
	for range 10 {
		p, err := NewBufferPool(4096, 1024)
		if err != nil {
			t.Fatal(err)
		}
		p.Put(p.Get())
		dropped = append(dropped, uintptr(p.mem.base))
	}
	kept, err := NewBufferPool(4096, 16)
	if err != nil {
		t.Fatal(err)
	}
	keptAddr := uintptr(kept.mem.base)
	buf := kept.Get() // out when the pool is dropped
	kept = nil
	gone := func() int {
		n := 0
		for _, a := range dropped {
			if mapping(t, a) == "" {
				n++
			}
		}
		return n
	}
	for i := 0; i < 50 && gone() < len(dropped); i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if n := gone(); n < len(dropped) {
		t.Fatalf("%d of %d dropped pools' arenas still mapped", len(dropped)-n, len(dropped))
	}
	if p := mapping(t, keptAddr); p != "rw-p" {
		t.Fatalf("a dropped pool with a buffer out: arena mapped %q, want it kept", p)
	}
	// The unmapped arenas are forgotten; the kept one is still known, so a
	// Put of its buffer into another pool still says whose it is.
	for _, a := range dropped {
		if inArena(a) {
			t.Fatalf("an unmapped arena at %#x is still listed", a)
		}
	}
	if !inArena(keptAddr) {
		t.Fatal("the kept arena is no longer listed")
	}
	other, err := NewBufferPool(4096, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	mustPanic(t, "another BufferPool", func() { other.Put(buf) })
	for i := range buf {
		buf[i] = byte(i) // must not fault
	}
}
