package rseq

import (
	"expvar"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

var _ expvar.Var = (*Counter)(nil)

func TestCounterBasic(t *testing.T) {
	c := NewCounter()
	defer c.Close()
	c.Inc()
	c.Add(41)
	c.Dec()
	c.Inc()
	if got := c.Load(); got != 42 {
		t.Fatalf("Load %d, want 42", got)
	}
	if s := c.String(); s != "42" {
		t.Fatalf("String %q", s)
	}
	if got := c.Drain(); got != 42 {
		t.Fatalf("Drain %d, want 42", got)
	}
	if got := c.Load(); got != 0 {
		t.Fatalf("Load after Drain %d", got)
	}
	c.Add(-7)
	c.Reset()
	if got := c.Load(); got != 0 {
		t.Fatalf("Load after Reset %d", got)
	}
}

// TestCounterExact: N goroutines x M adds of varying sizes, with yields;
// the total is exact.
func TestCounterExact(t *testing.T) {
	logEngine(t)
	c := NewCounter()
	defer c.Close()
	G, M := workers(), scale(500000)
	var wg sync.WaitGroup
	var want atomic.Int64
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var local int64
			for i := 0; i < M; i++ {
				d := int64(i%7 - 2)
				c.Add(d)
				local += d
				if i%4096 == 0 {
					runtime.Gosched()
				}
			}
			want.Add(local)
		}(g)
	}
	wg.Wait()
	if got := c.Load(); got != want.Load() {
		t.Fatalf("Load %d, want %d", got, want.Load())
	}
}

// TestCounterDrainConserves: adders run while two goroutines drain; every
// increment is returned by exactly one Drain or is still in the counter.
func TestCounterDrainConserves(t *testing.T) {
	c := NewCounter()
	defer c.Close()
	G, M := workers(), scale(300000)
	var wg sync.WaitGroup
	var stop atomic.Bool
	var drained, drains atomic.Int64
	var dw sync.WaitGroup
	for d := 0; d < 2; d++ {
		dw.Add(1)
		go func() {
			defer dw.Done()
			for !stop.Load() {
				v := c.Drain()
				if v < 0 {
					t.Errorf("Drain returned %d with only increments running", v)
				}
				drained.Add(v)
				drains.Add(1)
				runtime.Gosched()
			}
		}()
	}
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < M; i++ {
				c.Inc()
				if i%1024 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	dw.Wait()
	total := drained.Load() + c.Load()
	if want := int64(G * M); total != want {
		t.Fatalf("drained %d + left %d = %d, want %d", drained.Load(), c.Load(), total, want)
	}
	t.Logf("%d drains returned %d, %d left", drains.Load(), drained.Load(), c.Load())
}

func TestCounterInSlabAndCleanup(t *testing.T) {
	s, err := NewSlab(0, ByConcurrencyID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCounterIn(s)
	if err != nil {
		t.Fatal(err)
	}
	c.Add(3)
	if c.Load() != 3 {
		t.Fatal(c.Load())
	}
	c.Close()
	c.Close()
	// Unreachable counters give their words back.
	for i := 0; i < 100; i++ {
		c, _ := NewCounterIn(s)
		c.Inc()
	}
	for i := 0; i < 20 && s.Stats().Objects != 0; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if st := s.Stats(); st.Objects != 0 {
		t.Fatalf("%d counters not freed after GC", st.Objects)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkCounterAdd(b *testing.B) {
	c := NewCounter()
	defer c.Close()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

// BenchmarkCounterAddAtomic is the baseline: one shared atomic word.
func BenchmarkCounterAddAtomic(b *testing.B) {
	var n atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Add(1)
		}
	})
}

func BenchmarkCounterLoad(b *testing.B) {
	c := NewCounter()
	defer c.Close()
	for b.Loop() {
		c.Load()
	}
}

// TestCounterZeroValue: the zero Counter is usable like atomic.Int64,
// including its first Adds racing to allocate its word, and its word is
// freed when it becomes unreachable.
func TestCounterZeroValue(t *testing.T) {
	var c Counter
	if c.Load() != 0 || c.String() != "0" || c.Drain() != 0 {
		t.Fatalf("zero Counter reads %d", c.Load())
	}
	c.Inc()
	c.Add(5)
	if got := c.Load(); got != 6 {
		t.Fatalf("Load %d, want 6", got)
	}
	c.Close()

	// Many goroutines make the first Add of one zero Counter at once.
	for round := range 20 {
		var z Counter
		G, M := workers(), 100
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range G {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range M {
					z.Inc()
				}
			}()
		}
		close(start)
		wg.Wait()
		if got := z.Load(); got != int64(G*M) {
			t.Fatalf("round %d: sum %d, want %d", round, got, G*M)
		}
		z.Close()
	}

	s, err := DefaultSlab(ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before := s.Stats().Objects
	for range 100 {
		c := new(Counter)
		c.Inc()
	}
	for i := 0; i < 20 && s.Stats().Objects > before; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if n := s.Stats().Objects; n > before {
		t.Fatalf("%d words of unreachable zero Counters not freed", n-before)
	}
}

// TestCounterUsedAfterClose: every method of a closed Counter panics with
// a message (it used to write into the freed word, or dereference nil).
func TestCounterUsedAfterClose(t *testing.T) {
	for _, c := range []*Counter{NewCounter(), new(Counter)} {
		c.Inc()
		c.Close()
		c.Close() // twice: nothing
		for name, f := range map[string]func(){
			"Add":    func() { c.Add(1) },
			"Inc":    c.Inc,
			"Dec":    c.Dec,
			"Load":   func() { c.Load() },
			"Drain":  func() { c.Drain() },
			"Reset":  c.Reset,
			"String": func() { _ = c.String() },
		} {
			t.Run(name, func(t *testing.T) { mustPanic(t, "rseq: Counter used after Close", f) })
		}
	}
	var z Counter
	z.Close() // a zero Counter, closed before use
	mustPanic(t, "Counter used after Close", z.Inc)
}
