package rseq

import (
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestFreeListExclusive: goroutines take and give back handles, holding
// them across yields; no handle is ever held twice, and in the end every
// handle comes back exactly once.
func TestFreeListExclusive(t *testing.T) {
	logEngine(t)
	for _, capacity := range []int{1, 4, 0} {
		f, err := NewFreeList(capacity)
		if err != nil {
			t.Fatal(err)
		}
		const N = 40 // fewer than the goroutines want: Gets find the list empty and steal
		hs := make([]uint32, N)
		for i := range hs {
			hs[i] = uint32(i)
		}
		f.PutShared(hs...)
		held := make([]atomic.Int32, N)
		G, M := workers(), scale(50000)
		var wg sync.WaitGroup
		var empty atomic.Int64
		for g := 0; g < G; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				var mine []uint32
				for i := 0; i < M; i++ {
					if len(mine) < 8 && (i%3 != 2 || len(mine) == 0) {
						h, ok := f.Get()
						if !ok {
							empty.Add(1)
							continue
						}
						if h >= N {
							t.Errorf("handle %d out of range", h)
							return
						}
						if held[h].Add(1) != 1 {
							t.Errorf("handle %d held twice", h)
							return
						}
						mine = append(mine, h)
					} else {
						h := mine[len(mine)-1]
						mine = mine[:len(mine)-1]
						held[h].Add(-1)
						f.Put(h)
					}
					if i%128 == 0 {
						runtime.Gosched()
					}
				}
				for _, h := range mine {
					held[h].Add(-1)
					f.Put(h)
				}
			}(g)
		}
		wg.Wait()
		if n := f.Len(); n != N {
			t.Fatalf("capacity %d: Len %d, want %d", f.Capacity(), n, N)
		}
		seen := make([]bool, N)
		for i := 0; i < N; i++ {
			h, ok := f.Get()
			if !ok {
				t.Fatalf("capacity %d: list empty after %d of %d handles", f.Capacity(), i, N)
			}
			if seen[h] {
				t.Fatalf("handle %d returned twice", h)
			}
			seen[h] = true
		}
		if h, ok := f.Get(); ok {
			t.Fatalf("extra handle %d", h)
		}
		t.Logf("capacity %d: %d empty Gets", f.Capacity(), empty.Load())
		f.Close()
	}
}

func TestPopRemote(t *testing.T) {
	r := allocDefault(5)
	defer mustFree(r)
	p := r.PerCPU()
	var at int
	for i := 0; i < 4; i++ {
		_, a, res := p.Push(Current, r.Off(), r.Off()+8, 4, uint64(100+i))
		if res != Committed {
			t.Fatalf("Push %v", res)
		}
		at = a
		if p.Load(a, r.Off()) == 0 {
			t.Fatal("count not raised")
		}
	}
	// The pushes may have landed on several CPUs: take everything back
	// from outside, CPU by CPU.
	got := 0
	for cpu := 0; cpu < p.Len(); cpu++ {
		for {
			v, res := p.PopRemote(cpu, r.Off(), r.Off()+8, 4)
			if res != Committed {
				break
			}
			if v < 100 || v > 103 {
				t.Fatalf("popped %d", v)
			}
			got++
		}
	}
	if got != 4 {
		t.Fatalf("popped %d of 4 (last push on %d)", got, at)
	}
	panics(t, "PopRemote(Current)", func() { p.PopRemote(Current, r.Off(), r.Off()+8, 4) })
}

func BenchmarkFreeList(b *testing.B) {
	f, _ := NewFreeList(0)
	defer f.Close()
	hs := make([]uint32, 1024)
	for i := range hs {
		hs[i] = uint32(i)
	}
	f.PutShared(hs...)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if h, ok := f.Get(); ok {
				f.Put(h)
			}
		}
	})
}

// BenchmarkFreeListMutex is the baseline: a slice under a sync.Mutex.
func BenchmarkFreeListMutex(b *testing.B) {
	var mu sync.Mutex
	hs := make([]uint32, 1024)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			h := hs[len(hs)-1]
			hs = hs[:len(hs)-1]
			mu.Unlock()
			mu.Lock()
			hs = append(hs, h)
			mu.Unlock()
		}
	})
}

func TestFreeListUsedAfterClose(t *testing.T) {
	f, err := NewFreeList(0)
	if err != nil {
		t.Fatal(err)
	}
	f.Put(1)
	f.Close()
	f.Close()
	for name, fn := range map[string]func(){
		"Get":       func() { f.Get() },
		"Put":       func() { f.Put(2) },
		"PutShared": func() { f.PutShared(3, 4) },
		"Len":       func() { f.Len() },
		"Capacity":  func() { f.Capacity() },
	} {
		t.Run(name, func(t *testing.T) { mustPanic(t, "rseq: FreeList used after Close", fn) })
	}
}

// TestFreeListCapacityErrors: a capacity out of range says so (math.MaxInt
// overflowed into "Slab.Alloc: -9223372036854775808 words").
func TestFreeListCapacityErrors(t *testing.T) {
	for _, c := range []struct {
		capacity int
		want     string
	}{
		{math.MaxInt, "too large"},
		{math.MaxInt - 1, "too large"},
		{1 << 20, "too large"},
		{-1, "negative"},
		{math.MinInt, "negative"},
	} {
		f, err := NewFreeList(c.capacity)
		if err == nil {
			f.Close()
			t.Errorf("capacity %d accepted", c.capacity)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "NewFreeList") {
			t.Errorf("capacity %d: %v, want an error of NewFreeList saying %q", c.capacity, err, c.want)
		}
	}
	s, _ := DefaultSlab(ByCPU)
	f, err := NewFreeList(int(s.Stride()/8) - 1) // the largest
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
