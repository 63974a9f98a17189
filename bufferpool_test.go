package rseq

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestBufferPoolOwnership: goroutines stamp the buffers they get with
// their id and check the stamp survives yields until Put: no buffer is
// ever handed to two owners at once.
func TestBufferPoolOwnership(t *testing.T) {
	logEngine(t)
	const N = 32 // fewer than the goroutines want: Gets find the pool empty
	p, err := NewBufferPool(100, N)
	if err != nil {
		t.Fatal(err)
	}
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
	if n := p.InUse(); n != 0 {
		t.Fatalf("%d buffers in use after the test", n)
	}
	// Every buffer is there, once.
	seen := map[*byte]bool{}
	var all [][]byte
	for i := 0; i < N; i++ {
		buf := p.Get()
		if buf == nil {
			t.Fatalf("pool empty after %d of %d buffers", i, N)
		}
		if seen[&buf[0]] {
			t.Fatal("buffer returned twice")
		}
		seen[&buf[0]] = true
		all = append(all, buf)
	}
	if p.Get() != nil {
		t.Fatal("more buffers than the pool has")
	}
	if err := p.Close(); err == nil {
		t.Fatal("Close succeeded with buffers in use")
	}
	for _, buf := range all {
		p.Put(buf)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBufferPoolMisuse(t *testing.T) {
	p, err := NewBufferPool(64, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	buf := p.Get()
	panics(t, "Put of a heap slice", func() { p.Put(make([]byte, 64)) })
	panics(t, "Put of a nil slice", func() { p.Put(nil) })
	panics(t, "Put of a resliced buffer", func() { p.Put(buf[1:]) })
	p.Put(buf)
	panics(t, "second Put", func() { p.Put(buf) })
	other, _ := NewBufferPool(64, 4)
	ob := other.Get()
	panics(t, "Put into the wrong pool", func() { p.Put(ob) })
	other.Put(ob)
	other.Close()
	if _, err := NewBufferPool(0, 1); err == nil {
		t.Fatal("size 0 accepted")
	}
}

func TestBufferPoolNoAllocs(t *testing.T) {
	p, err := NewBufferPool(256, 128)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if n := testing.AllocsPerRun(1000, func() { p.Put(p.Get()) }); n != 0 {
		t.Fatalf("%v allocations per Get+Put", n)
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
	for name, fn := range map[string]func(){
		"Get":   func() { p.Get() },
		"Put":   func() { p.Put(buf) },
		"InUse": func() { p.InUse() },
		"Size":  func() { p.Size() },
		"Cap":   func() { p.Cap() },
	} {
		t.Run(name, func(t *testing.T) { mustPanic(t, "rseq: BufferPool used after Close", fn) })
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
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewBufferPool(%d, %d): %v, want it to say %q", c.size, c.count, err, c.want)
		}
	}
}
