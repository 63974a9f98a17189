package rseq

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// rwChecker is the state an RWMutex protects, instrumented: readers and
// writers count themselves in and out atomically and assert exclusion,
// and the plain fields a and b (equal outside write sections: the writer
// updates them one after the other, not atomically) catch a reader that
// sees a writer's half-done update; -race catches any overlap too.
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

func (c *rwChecker) write(t *testing.T, yield bool) { c.writeFor(t, yield, 0) }

// writeFor is write, sleeping for d between the two words' updates (if d
// > 0): a long write, which a reader that slipped in is likely to see.
func (c *rwChecker) writeFor(t *testing.T, yield bool, d time.Duration) {
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
	if d > 0 {
		time.Sleep(d)
	}
	c.b = c.a
	c.writes.Add(1)
	c.writers.Add(-1)
}

// check verifies the final state: every write landed, no reader is
// counted inside the ledger.
func (c *rwChecker) check(t *testing.T, m *RWMutex) {
	t.Helper()
	if c.a != c.b || uint64(c.writes.Load()) != c.a {
		t.Fatalf("a=%d b=%d writes=%d", c.a, c.b, c.writes.Load())
	}
	if l := m.led.Load(); l != nil {
		if in := l.inside(); in != 0 {
			t.Fatalf("%d readers counted inside the ledger after the test", in)
		}
	}
}

// forceBias lets the mutex bias even where rseq is not used (race builds,
// GORSEQ=off), so that every build runs the biased protocol.
func forceBias(t testing.TB) { setBiasPolicy(t, rwBiasAlways) }

// noBias keeps the mutex unbiased (the sync.RWMutex side only).
func noBias(t testing.TB) { setBiasPolicy(t, rwBiasNever) }

func setBiasPolicy(t testing.TB, p int32) {
	old := rwBiasPolicy.Swap(p)
	t.Cleanup(func() { rwBiasPolicy.Store(old) })
}

// setWindow fixes every inhibit window to d.
func setWindow(t testing.TB, d time.Duration) {
	old := rwWindowOverride.Swap(int64(d))
	t.Cleanup(func() { rwWindowOverride.Store(old) })
}

// flipFast makes every inhibit window empty: the bias comes back as soon
// as a window without writes ends, so it flips as often as possible.
func flipFast(t testing.TB) { setWindow(t, 0) }

type rwCounts struct{ biases, revocations, backOuts, imports uint64 }

func rwSnap() rwCounts {
	return rwCounts{rwStats.biases.Load(), rwStats.revocations.Load(), rwStats.backOuts.Load(), rwStats.imports.Load()}
}

func (a rwCounts) sub(b rwCounts) rwCounts {
	return rwCounts{a.biases - b.biases, a.revocations - b.revocations, a.backOuts - b.backOuts, a.imports - b.imports}
}

func (c rwCounts) String() string {
	return fmt.Sprintf("%d biases, %d revocations, %d back-outs, %d cross-CPU unlocks", c.biases, c.revocations, c.backOuts, c.imports)
}

func rwMode(m *RWMutex) uint32 { return atomic.LoadUint32(&m.mode) }

// warm reads a fresh m as often as it takes the policy to bias it.
func warm(m *RWMutex) {
	for range rwFirstReads {
		m.RLock()
		m.RUnlock()
	}
}

// readerCount is sync.RWMutex's count of m.rw (negative while a writer
// holds or waits).
func readerCount(t *testing.T, m *RWMutex) int32 {
	if !rwCountOK {
		t.Skip("sync.RWMutex's reader count was not found at start-up")
	}
	return atomic.LoadInt32((*int32)(unsafe.Add(unsafe.Pointer(&m.rw), rwCountOff)))
}

// TestRWMutexExclusion: many readers and a few writers, with yields inside
// the sections, using every entry point (RLock, TryRLock, RLocker, Lock,
// TryLock); no writer ever overlaps a reader or another writer. It runs
// with the default bias policy, and with the bias flipping as often as it
// can.
func TestRWMutexExclusion(t *testing.T) {
	logEngine(t)
	for _, flip := range []bool{false, true} {
		t.Run(fmt.Sprintf("flip=%v", flip), func(t *testing.T) {
			forceBias(t)
			if flip {
				flipFast(t)
			}
			before := rwSnap()
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
			c.check(t, &m)
			t.Logf("%d reads, %d writes; %v", c.reads.Load(), c.writes.Load(), rwSnap().sub(before))
		})
	}
}

// TestRWMutexHammer: readers and writers under hammer's disturbances
// (preemption, profiling signals, a signal storm), while a flipper
// goroutine biases the mutex and revokes the bias again and again; some
// readers sleep inside their sections (they block across revocations) and
// some hold the read lock across a yield (they migrate, and leave on
// another CPU than they entered on). Readers check that the two words a
// writer updates one after the other are equal.
func TestRWMutexHammer(t *testing.T) {
	logEngine(t)
	d := rwHammer(t, nil)
	if d.biases < 2 || d.revocations < 2 {
		t.Fatalf("the bias did not flip: %v", d)
	}
}

// rwHammer is TestRWMutexHammer's body; it returns the policy's counts.
// The readers and writers run until the flipper has flipped the bias
// scale(2000) times, they have done scale(20000) reads, and done (if not
// nil) is true of the counts so far, or for at most 10 seconds past the
// first two.
func rwHammer(t *testing.T, done func(rwCounts) bool) rwCounts {
	forceBias(t)
	flipFast(t)
	before := rwSnap()
	var m RWMutex
	var c rwChecker
	var stop atomic.Bool
	var flips sync.WaitGroup
	flips.Add(1)
	go func() { // the flipper: bias, let readers in, revoke
		defer flips.Done()
		defer stop.Store(true)
		var deadline time.Time
		for i := 0; ; i++ {
			if i >= scale(2000) && c.reads.Load() >= int64(scale(20000)) {
				if done == nil || done(rwSnap().sub(before)) {
					break
				}
				if deadline.IsZero() {
					deadline = time.Now().Add(10 * time.Second)
				} else if time.Now().After(deadline) {
					break
				}
			}
			m.bias()
			for range 4 {
				runtime.Gosched() // let readers in
			}
			m.Lock()
			c.writeFor(t, false, 20*time.Microsecond) // a reader that slipped in overlaps it
			m.Unlock()
			if t.Failed() {
				return
			}
		}
	}()
	hammer(t, func(g int) {
		for i := 0; !stop.Load() && !t.Failed(); i++ {
			switch {
			case g == 0 && i%256 == 0:
				m.Lock()
				c.write(t, i%512 == 0)
				m.Unlock()
			case i%512 == 3:
				m.RLock()
				time.Sleep(10 * time.Microsecond) // block inside
				c.read(t, false)
				m.RUnlock()
			case i%64 == 5:
				if m.TryRLock() {
					c.read(t, false)
					m.RUnlock()
				}
			default:
				m.RLock()
				c.read(t, i%16 == 0)
				m.RUnlock()
			}
		}
	})
	flips.Wait()
	c.check(t, &m)
	d := rwSnap().sub(before)
	t.Logf("%d reads, %d writes; %v", c.reads.Load(), c.writes.Load(), d)
	return d
}

// TestRWMutexCrossUnlock: the read lock is released by another goroutine
// (another thread, likely another CPU) than the one that took it, so the
// per-CPU counts do not balance per CPU; writers still wait for exactly
// the readers inside, and no legitimate RUnlock is taken for misuse.
func TestRWMutexCrossUnlock(t *testing.T) {
	forceBias(t)
	before := rwSnap()
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
			if i%8 == 0 {
				m.bias() // bring the per-CPU path back now and then
			}
		}
	}()
	wg.Wait()
	c.check(t, &m)
	t.Logf("%v", rwSnap().sub(before))
}

// TestRWMutexRevokeMidBurst: a writer revokes the bias while per-CPU
// readers are inside. It must wait for them (the ledger shows them), new
// readers must queue behind it (not take the per-CPU path, not slip in),
// and it gets in when the last one leaves; then the queued readers do.
func TestRWMutexRevokeMidBurst(t *testing.T) {
	forceBias(t)
	setWindow(t, time.Hour) // no re-bias behind the writer
	var m RWMutex
	warm(&m)
	if rwMode(&m) != rwBiased {
		t.Fatalf("mode %d after %d reads, want biased", rwMode(&m), rwFirstReads)
	}
	const inside = 3
	var c rwChecker
	release := make(chan struct{})
	var readers sync.WaitGroup
	for range inside {
		readers.Add(1)
		go func() {
			defer readers.Done()
			m.RLock()
			c.readers.Add(1)
			<-release
			c.readers.Add(-1)
			m.RUnlock()
		}()
	}
	waitFor(t, func() bool { return c.readers.Load() == inside })
	if in := m.led.Load().inside(); in != inside {
		t.Fatalf("ledger counts %d readers inside, want %d", in, inside)
	}
	wrote := make(chan struct{})
	go func() {
		m.Lock()
		c.write(t, false)
		m.Unlock()
		close(wrote)
	}()
	waitFor(t, func() bool { return rwMode(&m) == rwRevoking })
	if m.TryRLock() {
		t.Fatal("TryRLock succeeded while a writer was revoking")
	}
	late := make(chan struct{})
	go func() { // queues on m.rw behind the writer
		m.RLock()
		c.read(t, false)
		m.RUnlock()
		close(late)
	}()
	time.Sleep(10 * time.Millisecond)
	select {
	case <-wrote:
		t.Fatal("the writer got in with readers inside")
	case <-late:
		t.Fatal("a new reader got in while a writer was revoking")
	default:
	}
	close(release)
	readers.Wait()
	<-wrote
	<-late
	c.check(t, &m)
	if rwMode(&m) >= rwBiased {
		t.Fatalf("mode %d after the revocation, want unbiased", rwMode(&m))
	}
}

// TestRWMutexLateAdder replays the steps of a reader that loaded mode =
// biased and then was preempted before its per-CPU add while a writer
// revoked the bias. Its add then lands while the writer holds the lock:
// it must see the mode, back out, and queue. Then the same with the mutex
// biased again before the add lands: the reader holds a per-CPU read lock
// of the new period, which the next writer must wait for.
func TestRWMutexLateAdder(t *testing.T) {
	forceBias(t)
	var m RWMutex
	m.bias()
	l := m.led.Load()
	if rwMode(&m) != rwBiased || l == nil {
		t.Fatal("bias did not bias")
	}

	// Case 1: the add lands while the writer holds the lock.
	m.Lock()
	l.p.Add(Current, l.off+rwLockW, 1) // the late add
	if rwMode(&m) == rwBiased {
		t.Fatal("mode still biased under a writer")
	}
	m.backOut(l)
	if in := l.inside(); in != 0 {
		t.Fatalf("after the back-out the ledger counts %d inside", in)
	}
	got := make(chan struct{})
	go func() { m.rlockSlow(); close(got) }()
	select {
	case <-got:
		t.Fatal("the late reader got in under the writer")
	case <-time.After(10 * time.Millisecond):
	}
	m.Unlock()
	<-got
	m.RUnlock()

	// Case 2: the mutex is biased again before the add lands.
	m.bias()
	m.Lock() // revokes
	m.Unlock()
	m.bias()
	if rwMode(&m) != rwBiased {
		t.Fatal("not biased again")
	}
	l.p.Add(Current, l.off+rwLockW, 1) // the late add, now in a biased period
	if rwMode(&m) != rwBiased {
		t.Fatal("mode changed")
	}
	// It holds the read lock: a writer must wait for its RUnlock.
	wrote := make(chan struct{})
	go func() { m.Lock(); m.Unlock(); close(wrote) }()
	select {
	case <-wrote:
		t.Fatal("a writer got in past a late reader of the new period")
	case <-time.After(10 * time.Millisecond):
	}
	m.RUnlock()
	<-wrote
}

// TestRWMutexWriterNotStarved: readers hold the lock in overlapping
// relays, so that there is always a reader inside; writers still get in.
func TestRWMutexWriterNotStarved(t *testing.T) {
	for _, biased := range []bool{true, false} {
		t.Run(fmt.Sprintf("bias=%v", biased), func(t *testing.T) {
			if biased {
				forceBias(t)
			} else {
				noBias(t)
			}
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
				go func() {
					if biased {
						m.bias()
					}
					m.Lock()
					m.Unlock()
					close(done)
				}()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("writer starved by readers")
				}
			}
			stop.Store(true)
			wg.Wait()
		})
	}
}

// TestRWMutexReaderHandoff: a reader blocked by a writer gets the lock
// before the next writer does, and readers are not starved by a stream of
// writers.
func TestRWMutexReaderHandoff(t *testing.T) {
	forceBias(t)
	setWindow(t, time.Hour) // the reader below waits on the sync.RWMutex side
	var m RWMutex
	warm(&m) // biased now: W1 revokes
	m.Lock() // W1
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
	waitFor(t, func() bool { return readerCount(t, &m) == -rwMaxReaders+1 }) // the reader waits
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

// endWindow waits for m's inhibit window to end, then reads m until a
// reader has looked at the clock and decided (biased, or a new window).
func endWindow(t *testing.T, m *RWMutex) {
	t.Helper()
	l := m.led.Load()
	d := l.deadline.Load()
	waitFor(t, func() bool { return nanotime() >= d })
	for i := 0; i < 1000*rwPollEvery; i++ {
		m.RLock()
		m.RUnlock()
		if rwMode(m) == rwBiased || l.deadline.Load() != d {
			return
		}
	}
	t.Fatalf("no reader decided in %d reads", 1000*rwPollEvery)
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
	for _, biased := range []bool{true, false} {
		t.Run(fmt.Sprintf("bias=%v", biased), func(t *testing.T) {
			if biased {
				forceBias(t)
			} else {
				noBias(t)
			}
			var m RWMutex
			if !m.TryRLock() {
				t.Fatal("TryRLock of a fresh lock failed")
			}
			m.RUnlock()
			if !m.TryLock() {
				t.Fatal("TryLock of a free lock failed")
			}
			if m.TryLock() || m.TryRLock() {
				t.Fatal("Try* succeeded on a write-locked lock")
			}
			m.Unlock()
			if biased {
				m.bias()
			}
			if !m.TryRLock() || !m.TryRLock() {
				t.Fatal("TryRLock of a free lock failed")
			}
			if m.TryLock() {
				t.Fatal("TryLock succeeded on a read-locked lock")
			}
			if biased && rwMode(&m) != rwBiased {
				t.Fatalf("a failed TryLock left mode %d, want biased", rwMode(&m))
			}
			m.RUnlock()
			m.RUnlock()
			if !m.TryLock() {
				t.Fatal("TryLock after RUnlock failed")
			}
			m.Unlock()
		})
	}
}

// panicsWith runs f and checks that it panics with a message containing
// want.
func panicsWith(t *testing.T, what, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s did not panic", what)
		} else if s := fmt.Sprint(r); !strings.Contains(s, want) {
			t.Errorf("%s panicked with %q, want %q", what, s, want)
		}
	}()
	f()
}

// TestRWMutexMisuse: Unlock of an unlocked m and RUnlock without RLock
// panic in the faulty call, biased or not, and the mutex still works
// afterwards.
func TestRWMutexMisuse(t *testing.T) {
	const unlocked = "Unlock of unlocked rseq.RWMutex"
	const runlocked = "RUnlock of unlocked rseq.RWMutex"
	if !rwCountOK {
		t.Log("sync.RWMutex's reader count was not found: unbiased cases skipped")
	}
	usable := func(m *RWMutex) {
		t.Helper()
		m.RLock()
		m.RUnlock()
		m.Lock() // revokes if biased: the ledger must balance
		m.Unlock()
	}
	for _, biased := range []bool{true, false} {
		t.Run(fmt.Sprintf("bias=%v", biased), func(t *testing.T) {
			if biased {
				forceBias(t)
			} else if !rwCountOK {
				t.Skip("no reader count")
			} else {
				noBias(t)
			}
			var m RWMutex
			if rwCountOK {
				panicsWith(t, "Unlock of a fresh RWMutex", unlocked, m.Unlock)
				panicsWith(t, "RUnlock of a fresh RWMutex", runlocked, m.RUnlock)
			}
			warm(&m)
			if biased && rwMode(&m) != rwBiased {
				t.Fatalf("mode %d, want biased", rwMode(&m))
			}
			if !biased && rwMode(&m) >= rwBiased {
				t.Fatalf("mode %d, want unbiased", rwMode(&m))
			}
			if rwCountOK {
				panicsWith(t, "Unlock of a read-unlocked RWMutex", unlocked, m.Unlock)
			}
			panicsWith(t, "RUnlock after RLock, RUnlock", runlocked, m.RUnlock)
			usable(&m)
			if biased {
				m.bias()
			}
			m.RLock()
			if rwCountOK && !biased {
				panicsWith(t, "Unlock of a read-locked RWMutex", unlocked, m.Unlock)
			}
			m.RUnlock()
			panicsWith(t, "a second RUnlock", runlocked, m.RUnlock)
			usable(&m)
		})
	}
}

// TestRWMutexMisuseAcrossCPUs: a legitimate RUnlock on another CPU than
// its RLock is never reported, while the bias holds and many readers do
// it; an extra RUnlock is, once a writer has drained the ledger (before
// that, the CPUs where those readers entered have more locks than
// unlocks, and an extra RUnlock there can go unseen, as the protocol
// says).
func TestRWMutexMisuseAcrossCPUs(t *testing.T) {
	forceBias(t)
	var m RWMutex
	m.bias()
	before := rwSnap()
	const n = 2000
	held := make(chan struct{}, n)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				m.RLock()
				held <- struct{}{}
			}
		}()
	}
	wg.Wait()
	close(held)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for range held {
				m.RUnlock()
			}
		}()
	}
	wg.Wait()
	if rwMode(&m) != rwBiased {
		t.Fatalf("mode %d, want biased", rwMode(&m))
	}
	if in := m.led.Load().inside(); in != 0 {
		t.Fatalf("%d inside", in)
	}
	t.Logf("%v", rwSnap().sub(before))
	m.Lock()
	m.Unlock()
	m.bias()
	panicsWith(t, "an extra RUnlock", "RUnlock of unlocked rseq.RWMutex", m.RUnlock)
	m.Lock()
	m.Unlock()
}

// TestRWMutexPolicy walks the bias policy: the zero mutex biases at its
// rwFirstReads-th read, not before; a writer revokes and opens an inhibit window during which
// readers use sync.RWMutex; at the end of a window with a write the bias
// stays off and a new window starts; at the end of one without, the next
// reader biases again.
func TestRWMutexPolicy(t *testing.T) {
	forceBias(t)
	setWindow(t, 20*time.Millisecond)

	var m RWMutex
	if rwMode(&m) != rwCheck || m.led.Load() != nil {
		t.Fatal("the zero RWMutex is not unbiased without a ledger")
	}
	m.Lock()
	m.Unlock()
	if m.led.Load() != nil {
		t.Fatal("a writer allocated the ledger")
	}
	for i := 1; i < rwFirstReads; i++ {
		m.RLock()
		m.RUnlock()
	}
	if rwMode(&m) != rwCheck || m.led.Load() != nil {
		t.Fatalf("biased (mode %d) after %d reads, before %d", rwMode(&m), rwFirstReads-1, rwFirstReads)
	}
	m.RLock()
	m.RUnlock()
	if rwMode(&m) != rwBiased {
		t.Fatalf("mode %d after %d reads, want biased", rwMode(&m), rwFirstReads)
	}
	m.Lock()
	if rwMode(&m) != rwUnbiased {
		t.Fatalf("mode %d under a writer, want unbiased", rwMode(&m))
	}
	m.Unlock()
	m.RLock() // inside the window: the slow path
	if rwMode(&m) != rwUnbiased && rwMode(&m) != rwCheck {
		t.Fatalf("mode %d inside the window", rwMode(&m))
	}
	m.RUnlock()
	m.Lock() // a write during the window
	m.Unlock()
	endWindow(t, &m) // the window had a write: no bias, a new window
	if rwMode(&m) != rwUnbiased {
		t.Fatalf("mode %d after a window with a write, want unbiased", rwMode(&m))
	}
	endWindow(t, &m) // this window had no write: bias
	if rwMode(&m) != rwBiased {
		t.Fatalf("mode %d after a window without writes, want biased", rwMode(&m))
	}

	// A real revocation computes a window of at least rwWindowMin.
	rwWindowOverride.Store(-1)
	m.Lock()
	m.Unlock()
	if w := time.Duration(m.led.Load().window.Load()); w < rwWindowMin {
		t.Fatalf("window %v, want at least %v", w, rwWindowMin)
	}
}

// TestRWMutexWindow: the inhibit window is proportional to the revocation
// cost, grows while biases are revoked before they outlast the window
// they followed, up to a bound, and falls back when one does.
func TestRWMutexWindow(t *testing.T) {
	const us = time.Microsecond
	cases := []struct {
		prev, cost, biasedFor, want time.Duration
	}{
		{0, 10 * us, time.Second, rwWindowFactor * 10 * us},              // first window
		{0, us / 100, time.Second, rwWindowMin},                          // at least the minimum
		{160 * us, 10 * us, time.Second, 160 * us},                       // the bias paid: back to the base
		{160 * us, 10 * us, 50 * us, 320 * us},                           // it did not: double
		{50 * us, 10 * us, 10 * us, 160 * us},                            // doubling stays above the base
		{100 * time.Millisecond, 10 * us, us, rwWindowGrowth * 160 * us}, // bounded
	}
	for _, c := range cases {
		if got := rwWindow(c.prev, c.cost, c.biasedFor); got != c.want {
			t.Errorf("rwWindow(prev %v, cost %v, biased for %v) = %v, want %v", c.prev, c.cost, c.biasedFor, got, c.want)
		}
	}
}

// TestRWMutexCost: the cost estimate follows the samples, but one outlier
// moves it by at most 4 times.
func TestRWMutexCost(t *testing.T) {
	const us = time.Microsecond
	for _, c := range []struct{ prev, sample, want time.Duration }{
		{0, 10 * us, 10 * us},
		{10 * us, 5 * us, 5 * us},
		{10 * us, 30 * us, 30 * us},
		{10 * us, 7 * time.Millisecond, 40 * us},
	} {
		if got := rwCost(c.prev, c.sample); got != c.want {
			t.Errorf("rwCost(%v, %v) = %v, want %v", c.prev, c.sample, got, c.want)
		}
	}
}

// TestRWMutexNoBiasWithoutEngine: where rseq is not used the mutex never
// biases (its per-CPU path would be the fallback's locked operations).
func TestRWMutexNoBiasWithoutEngine(t *testing.T) {
	if engineOn {
		t.Skip("the engine is on")
	}
	var m RWMutex
	for i := 0; i < 100; i++ {
		m.RLock()
		m.RUnlock()
	}
	if rwMode(&m) >= rwBiased || m.led.Load() != nil {
		t.Fatalf("biased without the engine (mode %d)", rwMode(&m))
	}
}

// TestRWMutexSize: the mutex itself stays within a cache line, writers
// alone allocate nothing, and the first bias allocates the ledger (logged:
// the figures the documentation gives).
func TestRWMutexSize(t *testing.T) {
	forceBias(t)
	if s := unsafe.Sizeof(RWMutex{}); s > 64 {
		t.Fatalf("RWMutex is %d bytes, want at most 64", s)
	} else {
		t.Logf("RWMutex: %d bytes", s)
	}
	var m RWMutex
	if a := testing.AllocsPerRun(100, func() { m.Lock(); m.Unlock() }); a != 0 {
		t.Fatalf("Lock+Unlock allocates %v times", a)
	}
	var ms0, ms1 runtime.MemStats
	const n = 100
	ms := make([]RWMutex, n)
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for i := range ms {
		warm(&ms[i])
	}
	runtime.ReadMemStats(&ms1)
	for i := range ms {
		if rwMode(&ms[i]) != rwBiased {
			t.Fatalf("mutex %d not biased", i)
		}
	}
	t.Logf("first bias: %d B of Go heap per mutex (%d objects), %d B per possible CPU of slab memory (%d CPUs)",
		(ms1.TotalAlloc-ms0.TotalAlloc)/n, (ms1.Mallocs-ms0.Mallocs)/n, rwWords*8, PossibleCPUs())
	if a := testing.AllocsPerRun(100, func() { m.RLock(); m.RUnlock() }); a != 0 {
		t.Fatalf("RLock+RUnlock allocates %v times once biased", a)
	}
	runtime.KeepAlive(ms)
}

// TestRWMutexFreed: the ledger's per-CPU memory returns to the slab when
// the mutex becomes unreachable.
func TestRWMutexFreed(t *testing.T) {
	forceBias(t)
	s, err := DefaultSlab(ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before := s.Stats().Objects
	for i := 0; i < 100; i++ {
		m := new(RWMutex)
		warm(m)
		if i%2 == 0 {
			m.Lock() // arms the timer
			m.Unlock()
		}
		if m.led.Load() == nil {
			t.Fatal("no ledger")
		}
	}
	for i := 0; i < 50 && s.Stats().Objects > before; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if n := s.Stats().Objects; n > before {
		t.Fatalf("%d RWMutex ledgers not freed", n-before)
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

// BenchmarkRWMutexLock: a writer alone (the bias is off after the first
// revocation and, with no readers, never comes back).
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

// BenchmarkRWMutexRevoke: the cost of one revocation (bias, then Lock).
func BenchmarkRWMutexRevoke(b *testing.B) {
	var m RWMutex
	for b.Loop() {
		m.bias()
		m.Lock()
		m.Unlock()
	}
}

// BenchmarkRWMutexMixed: 8 goroutines, one write in every; it reports the
// bias flips per second of the run (the policy at work).
func BenchmarkRWMutexMixed(b *testing.B) {
	for _, every := range []int{0, 1000, 100, 10, 1} {
		b.Run(fmt.Sprintf("every=%d", every), func(b *testing.B) {
			var m RWMutex
			var x int64
			before := rwSnap()
			start := time.Now()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				var sink int64
				for i := 1; pb.Next(); i++ {
					if every > 0 && i%every == 0 {
						m.Lock()
						x++
						m.Unlock()
					} else {
						m.RLock()
						sink += x
						m.RUnlock()
					}
				}
				_ = sink
			})
			d, s := rwSnap().sub(before), time.Since(start).Seconds()
			b.ReportMetric(float64(d.biases)/s, "biases/s")
			b.ReportMetric(float64(d.revocations)/s, "revocations/s")
		})
	}
}
