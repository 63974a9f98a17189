package rseq

import (
	"encoding/binary"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// TestBufferPoolDroppedUnmapped: a pool dropped without Close gives its
// arena back once unreachable (100 dropped 4 MiB pools kept 400 MB
// mapped), unless a buffer is still out: that one stays usable. An arena
// counts as gone when a marker written into one of its buffers can no
// longer be read at that address: the addresses themselves may be mapped
// again by then (a thread's stack, the next pool), as happened on arm64.
func TestBufferPoolDroppedUnmapped(t *testing.T) {
	if raceEnabled {
		t.Skip("race builds keep pools in the Go heap")
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Skipf("no /proc/self/mem: %v", err)
	}
	defer mem.Close()
	// marked reports whether addr holds marker; an unmapped addr reads
	// as an error, not a fault.
	marked := func(addr uintptr, marker uint64) bool {
		var b [8]byte
		if _, err := mem.ReadAt(b[:], int64(addr)); err != nil {
			return false
		}
		return binary.LittleEndian.Uint64(b[:]) == marker
	}
	type arena struct {
		base, buf uintptr
		marker    uint64
	}
	var dropped []arena
	for i := range 10 {
		p, err := NewBufferPool(4096, 1024)
		if err != nil {
			t.Fatal(err)
		}
		b := p.Get()
		a := arena{uintptr(p.mem.base), uintptr(unsafe.Pointer(&b[0])), 0x5eed0000d1ed0000 + uint64(i)}
		binary.LittleEndian.PutUint64(b, a.marker)
		if !marked(a.buf, a.marker) {
			t.Fatal("/proc/self/mem does not read the marker just written")
		}
		p.Put(b)
		dropped = append(dropped, a)
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
			if !marked(a.buf, a.marker) {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); gone() < len(dropped) && time.Now().Before(deadline); {
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
		if inArena(a.base) {
			t.Fatalf("an unmapped arena at %#x is still listed", a.base)
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
