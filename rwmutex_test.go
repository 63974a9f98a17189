package rseq

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rwChecker is the state an RWMutex protects, instrumented: readers and
// writers count themselves in and out atomically and assert exclusion,
// and the plain fields a and b (equal outside write sections) catch a
// reader that overlaps a writer, and -race catches any overlap too.
type rwChecker struct {
	readers, writers atomic.Int64
	a, b             uint64
	reads, writes    atomic.Int64
}

func (c *rwChecker) read(t *testing.T, yield bool) {
	c.readers.Add(1)
	if w := c.writers.Load(); w != 0 {
		t.Errorf("reader inside with %d writers", w)
	}
	a := c.a
	if yield {
		runtime.Gosched()
	}
	if b := c.b; a != b {
		t.Errorf("reader saw a torn write: a=%d b=%d", a, b)
	}
	c.reads.Add(1)
	c.readers.Add(-1)
}

func (c *rwChecker) write(t *testing.T, yield bool) {
	if w := c.writers.Add(1); w != 1 {
		t.Errorf("%d writers inside", w)
	}
	if r := c.readers.Load(); r != 0 {
		t.Errorf("writer inside with %d readers", r)
	}
	c.a++
	if yield {
		runtime.Gosched()
	}
	c.b = c.a
	c.writes.Add(1)
	c.writers.Add(-1)
}

// TestRWMutexExclusion: many readers and a few writers, with yields inside
// the sections, using every entry point (RLock, TryRLock, RLocker, Lock,
// TryLock); no writer ever overlaps a reader or another writer.
func TestRWMutexExclusion(t *testing.T) {
	logEngine(t)
	var m RWMutex
	var c rwChecker
	G, M := workers(), scale(20000)
	var wg sync.WaitGroup
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rl := m.RLocker()
			for i := 0; i < M; i++ {
				yield := i%8 == 0
				switch {
				case g < 2 && i%4 == 0: // writers
					if i%8 == 0 && m.TryLock() {
						c.write(t, yield)
						m.Unlock()
						continue
					}
					m.Lock()
					c.write(t, yield)
					m.Unlock()
				case i%16 == 1:
					if m.TryRLock() {
						c.read(t, yield)
						m.RUnlock()
					}
				case i%16 == 2:
					rl.Lock()
					c.read(t, yield)
					rl.Unlock()
				default:
					m.RLock()
					c.read(t, yield)
					m.RUnlock()
				}
				if t.Failed() {
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if c.a != c.b || uint64(c.writes.Load()) != c.a {
		t.Fatalf("a=%d b=%d writes=%d", c.a, c.b, c.writes.Load())
	}
	s := m.st.Load()
	if in := s.inside(); in != 0 {
		t.Fatalf("%d readers counted inside after the test", in)
	}
	t.Logf("%d reads, %d writes, %d readers handed off", c.reads.Load(), c.writes.Load(), atomic.LoadUint64(&s.handed))
}

// TestRWMutexCrossUnlock: the read lock is released by another goroutine
// (another thread, likely another CPU) than the one that took it, so the
// per-CPU counts do not balance per CPU; writers still wait for exactly
// the readers inside.
func TestRWMutexCrossUnlock(t *testing.T) {
	var m RWMutex
	var c rwChecker
	M := scale(20000)
	held := make(chan struct{}, 64)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // lockers
		defer wg.Done()
		for i := 0; i < M; i++ {
			m.RLock()
			c.readers.Add(1)
			held <- struct{}{}
		}
		close(held)
	}()
	go func() { // unlockers
		defer wg.Done()
		runtime.LockOSThread() // keep to one thread, away from the lockers
		defer runtime.UnlockOSThread()
		for range held {
			if w := c.writers.Load(); w != 0 {
				t.Errorf("read lock held with %d writers", w)
			}
			c.readers.Add(-1)
			m.RUnlock()
		}
	}()
	go func() { // writer
		defer wg.Done()
		for i := 0; i < M/20; i++ {
			m.Lock()
			c.write(t, i%2 == 0)
			m.Unlock()
		}
	}()
	wg.Wait()
}

// TestRWMutexWriterNotStarved: readers hold the lock in overlapping
// relays, so that there is always a reader inside; writers still get in.
func TestRWMutexWriterNotStarved(t *testing.T) {
	var m RWMutex
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				m.RLock()
				time.Sleep(50 * time.Microsecond)
				m.RUnlock()
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	for i := 0; i < 20; i++ {
		done := make(chan struct{})
		go func() { m.Lock(); m.Unlock(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("writer starved by readers")
		}
	}
	stop.Store(true)
	wg.Wait()
}

// TestRWMutexReaderHandoff: a reader blocked by a writer gets the lock
// before the next writer does, and readers are not starved by a stream of
// writers.
func TestRWMutexReaderHandoff(t *testing.T) {
	var m RWMutex
	m.Lock() // W1
	s := m.st.Load()
	var order []string
	var mu sync.Mutex
	note := func(e string) { mu.Lock(); order = append(order, e); mu.Unlock() }
	rdone := make(chan struct{})
	go func() {
		m.RLock()
		note("reader")
		time.Sleep(20 * time.Millisecond)
		m.RUnlock()
		close(rdone)
	}()
	waitFor(t, func() bool { s.gate.Lock(); defer s.gate.Unlock(); return s.waiting == 1 })
	wdone := make(chan struct{})
	go func() { // W2 queues behind W1
		m.Lock()
		note("writer2")
		m.Unlock()
		close(wdone)
	}()
	time.Sleep(10 * time.Millisecond)
	m.Unlock()
	<-rdone
	<-wdone
	if len(order) != 2 || order[0] != "reader" {
		t.Fatalf("order %v: the waiting reader must enter before the next writer", order)
	}

	// A stream of writers: readers keep getting in.
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				m.Lock()
				time.Sleep(20 * time.Microsecond)
				m.Unlock()
			}
		}()
	}
	for i := 0; i < 50; i++ {
		done := make(chan struct{})
		go func() { m.RLock(); m.RUnlock(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("reader starved by writers")
		}
	}
	stop.Store(true)
	wg.Wait()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(100 * time.Microsecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("condition not reached in 10s")
		}
	}
}

func TestRWMutexTry(t *testing.T) {
	var m RWMutex
	if !m.TryLock() {
		t.Fatal("TryLock of a free lock failed")
	}
	if m.TryLock() || m.TryRLock() {
		t.Fatal("Try* succeeded on a write-locked lock")
	}
	m.Unlock()
	if !m.TryRLock() || !m.TryRLock() {
		t.Fatal("TryRLock of a free lock failed")
	}
	if m.TryLock() {
		t.Fatal("TryLock succeeded on a read-locked lock")
	}
	m.RUnlock()
	m.RUnlock()
	if !m.TryLock() {
		t.Fatal("TryLock after RUnlock failed")
	}
	m.Unlock()
}

func TestRWMutexMisuse(t *testing.T) {
	var m RWMutex
	panics(t, "Unlock of a fresh RWMutex", m.Unlock)
	panics(t, "RUnlock of a fresh RWMutex", m.RUnlock)
	m.RLock()
	m.RUnlock()
	panics(t, "Unlock of a read-locked RWMutex", m.Unlock)
	m.RUnlock() // one too many: detected by the next writer
	panics(t, "Lock after an extra RUnlock", m.Lock)
}

func TestRWMutexFreed(t *testing.T) {
	s, err := DefaultSlab(ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before := s.Stats().Objects
	for i := 0; i < 100; i++ {
		m := new(RWMutex)
		m.RLock()
		m.RUnlock()
	}
	for i := 0; i < 20 && s.Stats().Objects > before; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if n := s.Stats().Objects; n > before {
		t.Fatalf("%d RWMutex states not freed", n-before)
	}
}

func BenchmarkRWMutexRLock(b *testing.B) {
	var m RWMutex
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.RLock()
			m.RUnlock()
		}
	})
}

// BenchmarkRWMutexRLockSync is the baseline: sync.RWMutex.
func BenchmarkRWMutexRLockSync(b *testing.B) {
	var m sync.RWMutex
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.RLock()
			m.RUnlock()
		}
	})
}

// BenchmarkRWMutexLock: the writer's cost (a fence of every CPU each time).
func BenchmarkRWMutexLock(b *testing.B) {
	var m RWMutex
	for b.Loop() {
		m.Lock()
		m.Unlock()
	}
}

func BenchmarkRWMutexLockSync(b *testing.B) {
	var m sync.RWMutex
	for b.Loop() {
		m.Lock()
		m.Unlock()
	}
}
