package rseq

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// newPool returns a pool that the test closes at its end (and fails if it
// cannot: a buffer is still out).
func newPool(t *testing.T, size, count int) *BufferPool {
	t.Helper()
	p, err := NewBufferPool(size, count)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close at the end of the test: %v", err)
		}
	})
	return p
}

// drain takes every buffer the pool has and checks that there are exactly
// count, each one of the pool's and each once, and then none (nil, or
// New's); it puts them all back.
func drain(t *testing.T, p *BufferPool, count int) {
	t.Helper()
	if n := p.InUse(); n != 0 {
		t.Fatalf("%d buffers in use before draining", n)
	}
	seen := map[*byte]bool{}
	var all [][]byte
	for i := 0; i < count; i++ {
		buf := p.Get()
		if buf == nil || !p.Owns(buf) {
			t.Fatalf("Get %d of %d: %v, want one of the pool's buffers", i+1, count, buf != nil)
		}
		if seen[&buf[0]] {
			t.Fatalf("Get %d of %d: a buffer handed out twice", i+1, count)
		}
		seen[&buf[0]] = true
		all = append(all, buf)
	}
	if n := p.InUse(); n != count {
		t.Errorf("InUse %d with every buffer out, want %d", n, count)
	}
	if buf := p.Get(); buf != nil {
		if p.Owns(buf) {
			t.Fatalf("more than %d buffers in the pool", count)
		}
		p.Put(buf) // New's
	}
	for _, buf := range all {
		p.Put(buf)
	}
	if n := p.InUse(); n != 0 {
		t.Fatalf("%d buffers in use after putting all back", n)
	}
}

// TestBufferPoolOwnership: goroutines stamp the buffers they get with
// their id and check the stamp survives yields until Put: no buffer is
// ever handed to two owners at once.
func TestBufferPoolOwnership(t *testing.T) {
	logEngine(t)
	const N = 32 // fewer than the goroutines want: Gets find the pool empty
	p := newPool(t, 100, N)
	G, M := workers(), scale(50000)
	var wg sync.WaitGroup
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var mine [][]byte
			for i := 0; i < M; i++ {
				if len(mine) < 6 && (i%3 != 2 || len(mine) == 0) {
					buf := p.Get()
					if buf == nil {
						continue
					}
					if len(buf) != 100 || cap(buf) != 100 {
						t.Errorf("buffer len %d cap %d", len(buf), cap(buf))
						return
					}
					binary.LittleEndian.PutUint64(buf, uint64(g))
					binary.LittleEndian.PutUint64(buf[92:], uint64(i))
					mine = append(mine, buf)
				} else {
					k := i % len(mine)
					buf := mine[k]
					mine = append(mine[:k], mine[k+1:]...)
					if binary.LittleEndian.Uint64(buf) != uint64(g) {
						t.Errorf("buffer shared: stamped by %d, held by %d", binary.LittleEndian.Uint64(buf), g)
						return
					}
					p.Put(buf[:i%50])
				}
				if i%64 == 0 {
					runtime.Gosched()
				}
			}
			for _, buf := range mine {
				p.Put(buf)
			}
		}(g)
	}
	wg.Wait()
	drain(t, p, N)
	all := make([][]byte, N)
	for i := range all {
		all[i] = p.Get()
	}
	if err := p.Close(); err == nil {
		t.Fatal("Close succeeded with buffers in use")
	}
	for _, buf := range all {
		p.Put(buf)
	}
}

// TestBufferPoolConservation: under the hammer (preemption, profiling
// signals, a signal storm, and proof that sections were aborted), workers
// take and give back buffers, each stamped by its holder and checked at
// Put. Afterwards every count balances exactly: Gets of pool buffers equal
// their Puts, New made exactly the buffers that were handed out beyond the
// pool and they were all dropped, nothing is in use, and the pool holds
// each of its buffers once. Buffer sizes 48 (the state word on the data's
// own cache line) and 4096 (on a line of its own); with and without New.
func TestBufferPoolConservation(t *testing.T) {
	logEngine(t)
	for _, size := range []int{48, 4096} {
		for _, withNew := range []bool{false, true} {
			t.Run(fmt.Sprintf("size=%d/New=%v", size, withNew), func(t *testing.T) {
				const N = 12 // fewer than the workers hold at peak: Get runs out
				p := newPool(t, size, N)
				var made atomic.Int64
				if withNew {
					p.New = func() []byte { made.Add(1); return make([]byte, size) }
				}
				var gotPool, putPool, gotNew, putNew, empty atomic.Int64
				M := max(opsPerGoroutine()/8, 1000)
				hammer(t, func(g int) {
					type held struct {
						buf   []byte
						stamp uint64
					}
					var mine []held
					var gp, pp, gn, pn, e int64
					put := func(k int) {
						h := mine[k]
						mine = append(mine[:k], mine[k+1:]...)
						if got := binary.LittleEndian.Uint64(h.buf); got != h.stamp {
							t.Errorf("goroutine %d: buffer stamped %#x, now %#x: handed to two owners", g, h.stamp, got)
						}
						if got := binary.LittleEndian.Uint64(h.buf[size-8:]); got != h.stamp {
							t.Errorf("goroutine %d: buffer's last word %#x, want %#x", g, got, h.stamp)
						}
						if p.Owns(h.buf) {
							pp++
						} else {
							pn++
						}
						p.Put(h.buf[:k%size])
					}
					for i := 0; i < M; i++ {
						if len(mine) < 8 && (i%3 != 2 || len(mine) == 0) {
							buf := p.Get()
							if buf == nil {
								e++
								continue
							}
							if len(buf) != size || cap(buf) != size {
								t.Errorf("buffer of len %d cap %d, want %d", len(buf), cap(buf), size)
								return
							}
							if p.Owns(buf) {
								gp++
							} else {
								gn++
							}
							stamp := uint64(g)<<32 | uint64(i)
							binary.LittleEndian.PutUint64(buf, stamp)
							binary.LittleEndian.PutUint64(buf[size-8:], stamp)
							mine = append(mine, held{buf, stamp})
						} else {
							put(i % len(mine))
						}
						if i%32 == 0 {
							runtime.Gosched()
						}
					}
					for len(mine) > 0 {
						put(0)
					}
					gotPool.Add(gp)
					putPool.Add(pp)
					gotNew.Add(gn)
					putNew.Add(pn)
					empty.Add(e)
				})
				t.Logf("pool buffers %d, New's %d, empty Gets %d", gotPool.Load(), gotNew.Load(), empty.Load())
				if gotPool.Load() != putPool.Load() {
					t.Errorf("%d Gets of pool buffers, %d Puts", gotPool.Load(), putPool.Load())
				}
				if gotNew.Load() != putNew.Load() || gotNew.Load() != made.Load() {
					t.Errorf("New made %d buffers, %d were handed out, %d put back", made.Load(), gotNew.Load(), putNew.Load())
				}
				if withNew && empty.Load() != 0 {
					t.Errorf("%d Gets returned nil with New set", empty.Load())
				}
				if !withNew && gotNew.Load() != 0 {
					t.Errorf("%d buffers not the pool's without New", gotNew.Load())
				}
				if withNew && made.Load() == 0 || !withNew && empty.Load() == 0 {
					t.Errorf("the pool never ran out: the test did not test exhaustion")
				}
				drain(t, p, N)
			})
		}
	}
}

// TestBufferPoolDoublePut: a second Put of a pool buffer panics, whether
// the same goroutine makes it or another one after it (ordered by a
// channel), and whatever the slice's length; the failed Put changes
// nothing.
func TestBufferPoolDoublePut(t *testing.T) {
	p := newPool(t, 100, 4)
	buf := p.Get()
	p.Put(buf)
	mustPanic(t, "which is already in the pool (put twice?)", func() { p.Put(buf) })
	mustPanic(t, "already in the pool", func() { p.Put(buf[:10]) })
	mustPanic(t, "already in the pool", func() { p.Put(buf[:0]) })

	b2 := p.Get()
	b3 := p.Get()
	ch := make(chan []byte)
	go func() {
		p.Put(b2)
		ch <- b2
	}()
	mustPanic(t, "already in the pool", func() { p.Put(<-ch) })
	p.Put(b3)
	mustPanic(t, "already in the pool", func() { p.Put(b3) })
	drain(t, p, 4)
}

// TestBufferPoolRacedPutAftermath: what two racing Puts of one buffer
// leave, its index twice in the free list, makes the Get that takes the
// second copy panic instead of handing the buffer to a second owner; an
// index that is no buffer panics too.
func TestBufferPoolRacedPutAftermath(t *testing.T) {
	p := newPool(t, 64, 1)
	buf := p.Get()
	p.Put(buf)
	p.free.Put(0) // the second copy a racing Put would have pushed
	first := p.Get()
	if !p.Owns(first) {
		t.Fatal("Get did not return the pool's buffer")
	}
	mustPanic(t, "rseq: BufferPool.Get: buffer 0 handed out twice", func() { p.Get() })
	p.Put(first)
	drain(t, p, 1)

	p.free.Put(7)
	mustPanic(t, "the free list gave 7, which is not a buffer", func() { p.Get() })
	drain(t, p, 1)
}

// TestBufferPoolForeignPut: what Put does with each kind of slice that is
// not one of its buffers as Get returned it (see BufferPool).
func TestBufferPoolForeignPut(t *testing.T) {
	const size = 100
	p := newPool(t, size, 4)
	other := newPool(t, size, 2)
	otherSmall := newPool(t, 10, 2)
	buf := p.Get()

	// Accepted and dropped: nil, and Size bytes from outside every pool.
	p.Put(nil)
	heap := make([]byte, size)
	p.Put(heap)
	p.Put(heap[:3]) // a resliced one too
	if n := p.InUse(); n != 1 {
		t.Fatalf("InUse %d after Puts of foreign buffers, want 1", n)
	}

	// Accepted into the pool: its own buffer, any length, from the start.
	p.Put(buf[:0])
	drain(t, p, 4)

	buf = p.Get()
	ob := other.Get()
	sb := otherSmall.Get()
	for _, c := range []struct {
		name string
		buf  []byte
		want string
	}{
		{"a slice of another size", make([]byte, size+1), "rseq: BufferPool.Put of a slice of capacity 101 that is not the pool's (its buffers and New's have 100)"},
		{"an empty non-nil slice", []byte{}, "capacity 0"},
		{"a slice of a larger array", make([]byte, size, 2*size), "capacity 200"},
		{"a resliced buffer", buf[1:], "does not start at a buffer of this pool (offset 1 into buffer"},
		{"the middle of a buffer", buf[50:60], "offset 50 into buffer"},
		{"the buffer past its end", unsafe.Slice(unsafe.SliceData(buf), 101), "with capacity 101, more than its 100 bytes"},
		{"another pool's buffer", ob, "rseq: BufferPool.Put of a buffer of another BufferPool"},
		{"another pool's buffer, resliced", ob[:1], "another BufferPool"},
		{"a smaller pool's buffer", sb, "another BufferPool"},
	} {
		t.Run(c.name, func(t *testing.T) { mustPanic(t, c.want, func() { p.Put(c.buf) }) })
	}
	if p.Owns(ob) || other.Owns(buf) {
		t.Fatal("a pool owns another's buffer")
	}
	other.Put(ob)
	otherSmall.Put(sb)
	p.Put(buf)
	drain(t, p, 4)
	drain(t, other, 2)
}

// TestBufferPoolNew: Get falls back on New when every buffer is out (and
// only then), New's buffers are not the pool's and Put drops them, and a
// New that breaks its contract makes Get panic.
func TestBufferPoolNew(t *testing.T) {
	p := newPool(t, 64, 2)
	made := 0
	p.New = func() []byte { made++; return make([]byte, 64) }
	a, b := p.Get(), p.Get()
	if made != 0 || !p.Owns(a) || !p.Owns(b) {
		t.Fatalf("New called %d times while the pool had buffers", made)
	}
	c := p.Get()
	if made != 1 || c == nil || p.Owns(c) || len(c) != 64 || cap(c) != 64 {
		t.Fatalf("Get with the pool empty: New called %d times, buffer len %d cap %d owned %v", made, len(c), cap(c), p.Owns(c))
	}
	p.Put(c)
	p.Put(c) // New's buffers are not tracked: a second Put is not detected
	if n := p.InUse(); n != 2 {
		t.Fatalf("InUse %d, want 2 (New's buffers do not count)", n)
	}
	p.Put(a)
	if got := p.Get(); &got[0] != &a[0] || made != 1 {
		t.Fatalf("Get after a Put: New called %d times, want the buffer put back", made)
	}
	p.Put(a)
	p.Put(b)

	for _, bad := range []func() []byte{
		func() []byte { return make([]byte, 63) },
		func() []byte { return make([]byte, 64, 128) },
		func() []byte { return make([]byte, 0, 64) },
	} {
		p.New = bad
		x, y := p.Get(), p.Get()
		mustPanic(t, "rseq: BufferPool.New returned a slice of length", func() { p.Get() })
		p.Put(x)
		p.Put(y)
	}
	p.New = func() []byte { return nil }
	x, y := p.Get(), p.Get()
	if z := p.Get(); z != nil {
		t.Fatalf("New returned nil, Get %v", z)
	}
	p.Put(x)
	p.Put(y)
	drain(t, p, 2)
}

// TestBufferPoolOwns: Owns is true exactly for the slices Put takes back
// into the pool.
func TestBufferPoolOwns(t *testing.T) {
	p := newPool(t, 100, 3)
	other := newPool(t, 100, 1)
	buf := p.Get()
	ob := other.Get()
	for _, c := range []struct {
		name string
		buf  []byte
		want bool
	}{
		{"a buffer", buf, true},
		{"a buffer resliced from its start", buf[:7], true},
		{"a buffer with no length", buf[:0], true},
		{"a buffer with less capacity", buf[:5:50], true},
		{"the middle of a buffer", buf[1:], false},
		{"the buffer past its end", unsafe.Slice(unsafe.SliceData(buf), 101), false},
		{"nil", nil, false},
		{"a heap slice of Size", make([]byte, 100), false},
		{"another pool's buffer", ob, false},
	} {
		if got := p.Owns(c.buf); got != c.want {
			t.Errorf("Owns(%s) = %v, want %v", c.name, got, c.want)
		}
	}
	p.Put(buf)
	if !p.Owns(buf) {
		t.Error("Owns is false for a buffer in the pool")
	}
	other.Put(ob)
}

// TestBufferPoolIndex: Put's division-free test of "off is a multiple of
// the stride below count strides" agrees with division, for strides with
// and without odd factors, at the ends of the arena, between buffers and
// for addresses below the arena (off wraps around).
func TestBufferPoolIndex(t *testing.T) {
	for _, size := range []int{1, 59, 60, 61, 100, 123, 192, 4092, 4093, 4096, 4097, 1<<20 - 3, 1 << 20} {
		const count = 1000
		stride := uintptr((size + 4 + 63) &^ 63)
		shift := 0
		for stride>>shift&1 == 0 {
			shift++
		}
		b := &BufferPool{stride: stride, lim: count, inv: inverseOdd(uint64(stride) >> shift), shift: shift}
		if uint64(stride>>shift)*b.inv != 1 {
			t.Fatalf("stride %d: inverse %#x of %d is wrong", stride, b.inv, stride>>shift)
		}
		check := func(off uintptr) {
			want := off%stride == 0 && off/stride < count
			h := b.index(off)
			if (h < b.lim) != want || want && h != uint64(off/stride) {
				t.Fatalf("stride %d, offset %d: index %d, want a buffer: %v", stride, off, h, want)
			}
		}
		for h := uintptr(0); h <= count+1; h++ {
			for _, d := range []uintptr{0, 1, 2, 3, 4, 8, 63, 64, stride / 2, stride - 1} {
				check(h*stride + d)
				check(h*stride - d)
				check(-h*stride - d)
			}
		}
		top := ^uintptr(0)
		for _, off := range []uintptr{top, top - stride + 1, top>>1 + 1, top / stride * stride, top/stride*stride - stride} {
			check(off)
		}
	}
}

// TestBufferPoolLayout: every buffer and its state word share cache lines
// with no other buffer: buffers start on a line, and the state word lies
// past the buffer's last byte and before the next buffer's line.
func TestBufferPoolLayout(t *testing.T) {
	for _, size := range []int{1, 48, 60, 61, 64, 100, 4096} {
		p := newPool(t, size, 3)
		bufs := [][]byte{p.Get(), p.Get(), p.Get()}
		for _, buf := range bufs {
			at := uintptr(unsafe.Pointer(&buf[0]))
			state := uintptr(unsafe.Add(unsafe.Pointer(&buf[0]), p.stateOff))
			word := (*uint32)(unsafe.Add(unsafe.Pointer(&buf[0]), p.stateOff))
			if at%64 != 0 || p.stride%64 != 0 {
				t.Fatalf("size %d: buffer at %#x, stride %d: not on cache lines", size, at, p.stride)
			}
			if state < at+uintptr(size) || state+4 > at+p.stride {
				t.Fatalf("size %d: state word at +%d, outside [%d, %d)", size, p.stateOff, size, p.stride)
			}
			if p.stride-uintptr(size)-4 >= 64 {
				t.Fatalf("size %d: stride %d wastes a line", size, p.stride)
			}
			if *word != bufOut {
				t.Fatalf("size %d: a buffer out has state %#x", size, *word)
			}
		}
		for _, buf := range bufs {
			p.Put(buf)
		}
	}
}

func TestBufferPoolNoAllocs(t *testing.T) {
	p := newPool(t, 256, 128)
	if n := testing.AllocsPerRun(1000, func() { p.Put(p.Get()) }); n != 0 {
		t.Fatalf("%v allocations per Get+Put", n)
	}
	heap := make([]byte, 256)
	if n := testing.AllocsPerRun(1000, func() { p.Put(heap); p.Owns(heap) }); n != 0 {
		t.Fatalf("%v allocations per Put of a foreign buffer", n)
	}
}

func BenchmarkBufferPool(b *testing.B) {
	p, _ := NewBufferPool(4096, 1024)
	defer p.Close()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			buf := p.Get()
			buf[0] = 1
			p.Put(buf)
		}
	})
}

// BenchmarkBufferPoolSyncPool is the baseline: sync.Pool of *[]byte.
func BenchmarkBufferPoolSyncPool(b *testing.B) {
	p := sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			buf := p.Get().(*[]byte)
			(*buf)[0] = 1
			p.Put(buf)
		}
	})
}

func TestBufferPoolUsedAfterClose(t *testing.T) {
	p, err := NewBufferPool(64, 4)
	if err != nil {
		t.Fatal(err)
	}
	buf := p.Get()
	p.Put(buf)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p.Close()
	heap := make([]byte, 64)
	for name, fn := range map[string]func(){
		"Get":          func() { p.Get() },
		"Put":          func() { p.Put(buf) },
		"Put(foreign)": func() { p.Put(heap) },
		"Put(nil)":     func() { p.Put(nil) },
		"Owns":         func() { p.Owns(buf) },
		"InUse":        func() { p.InUse() },
		"Size":         func() { p.Size() },
		"Cap":          func() { p.Cap() },
	} {
		t.Run(name, func(t *testing.T) { mustPanic(t, "rseq: BufferPool used after Close", fn) })
	}
	if inArena(uintptr(unsafe.Pointer(&buf[0]))) {
		t.Fatal("a closed pool's arena is still listed")
	}
}

// TestBufferPoolArgErrors: each bad argument is named ("10 buffers of 0
// bytes" said only what was asked).
func TestBufferPoolArgErrors(t *testing.T) {
	for _, c := range []struct {
		size, count int
		want        string
	}{
		{0, 10, "buffer size 0"},
		{-5, 10, "buffer size -5"},
		{64, 0, "0 buffers"},
		{64, -1, "-1 buffers"},
		{math.MaxInt, 2, "overflow"},
		{math.MaxInt - 2, 1, "overflow"},                       // the state word does not fit
		{64, math.MaxInt, fmt.Sprint(math.MaxInt, " buffers")}, // past 2^32-1 on 64-bit, an overflow on 32-bit
	} {
		if uint64(math.MaxInt) <= math.MaxUint32 && c.count == math.MaxInt {
			c.want = "overflow"
		}
		p, err := NewBufferPool(c.size, c.count)
		if err == nil {
			p.Close()
			t.Errorf("NewBufferPool(%d, %d) accepted", c.size, c.count)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "NewBufferPool") {
			t.Errorf("NewBufferPool(%d, %d): %v, want it to say %q", c.size, c.count, err, c.want)
		}
	}
}
