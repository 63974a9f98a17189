package rseq

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// ringChecker is the consumer side of the ring tests: it checks every
// record it is given and remembers which were delivered.
type ringChecker struct {
	t         testing.TB
	delivered [][]uint8         // [producer][seq]: times delivered
	last      map[[2]int]uint64 // (index, producer) -> last seq + 1 seen in that index's stream
	n         int
	bad       int
}

func newRingChecker(t testing.TB, producers, perProducer int) *ringChecker {
	c := &ringChecker{t: t, delivered: make([][]uint8, producers), last: map[[2]int]uint64{}}
	for i := range c.delivered {
		c.delivered[i] = make([]uint8, perProducer)
	}
	return c
}

func (c *ringChecker) record(cpu int, rec []byte) {
	seq, ok := checkRecord(rec)
	g := binary.LittleEndian.Uint64(rec[8:])
	switch {
	case !ok:
		c.fail("index %d: torn record (checksum) %x", cpu, rec)
		return
	case g >= uint64(len(c.delivered)) || seq >= uint64(len(c.delivered[g])):
		c.fail("index %d: record of producer %d seq %d out of range", cpu, g, seq)
		return
	}
	k := [2]int{cpu, int(g)}
	if seq+1 <= c.last[k] {
		c.fail("index %d: producer %d seq %d after seq %d (out of order)", cpu, g, seq, c.last[k]-1)
	}
	c.last[k] = seq + 1
	c.delivered[g][seq]++
	c.n++
}

func (c *ringChecker) fail(format string, args ...any) {
	c.bad++
	if c.bad < 10 {
		c.t.Errorf(format, args...)
	}
}

// TestRingExactlyOnce: producers push checksummed records (producer, seq)
// while a consumer drains; every record whose Push returned true comes out
// exactly once, intact, in order within each CPU's stream; every other
// attempt is counted as a drop.
func TestRingExactlyOnce(t *testing.T) {
	logEngine(t)
	modes(t, func(t *testing.T, by Indexing) {
		for _, slots := range []int{4, 64} {
			t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
				testRingExactlyOnce(t, by, 64, slots)
			})
		}
	})
	t.Run("odd record size", func(t *testing.T) { testRingExactlyOnce(t, ByCPU, 21, 16) })
	t.Run("MaxRingRecord", func(t *testing.T) { testRingExactlyOnce(t, ByCPU, MaxRingRecord, 8) })
}

func testRingExactlyOnce(t *testing.T, by Indexing, recSize, slots int) {
	q, err := NewRing(recSize, slots, by)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	producers := workers()
	ops := max(opsPerGoroutine()/8, 1000)
	committed := make([][]bool, producers)
	var attempts, commits atomic.Int64
	chk := newRingChecker(t, producers, ops)

	stop := make(chan struct{})
	consumerDone := make(chan struct{})
	go func() {
		defer close(consumerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if q.Drain(chk.record) == 0 {
				time.Sleep(20 * time.Microsecond)
			}
		}
	}()
	hammer(t, func(g int) {
		if g >= producers {
			return
		}
		mine := make([]bool, ops)
		buf := make([]byte, recSize)
		var a, c int64
		for seq := 0; seq < ops; seq++ {
			fillRecord(buf, uint64(seq), uint64(g))
			a++
			if q.Push(buf) {
				mine[seq] = true
				c++
			} else if seq%4 != 0 {
				runtime.Gosched() // let the consumer catch up, mostly
			}
		}
		committed[g] = mine
		attempts.Add(a)
		commits.Add(c)
	})
	close(stop)
	<-consumerDone
	q.Drain(chk.record)
	if q.Len() != 0 {
		t.Errorf("Len %d after the last Drain", q.Len())
	}

	var lost, dup, ghost int
	for g := range producers {
		for seq := range ops {
			d := chk.delivered[g][seq]
			c := committed[g] != nil && committed[g][seq]
			switch {
			case d > 1:
				dup++
			case c && d == 0:
				lost++
			case !c && d != 0:
				ghost++
			}
		}
	}
	if lost+dup+ghost > 0 {
		t.Errorf("%d committed records lost, %d duplicated, %d delivered though Push returned false", lost, dup, ghost)
	}
	if got := int64(chk.n); got != commits.Load() {
		t.Errorf("delivered %d records, %d committed", got, commits.Load())
	}
	if got, want := q.Dropped(), uint64(attempts.Load()-commits.Load()); got != want {
		t.Errorf("Dropped %d, want %d (attempts %d, committed %d)", got, want, attempts.Load(), commits.Load())
	}
	t.Logf("%d attempts, %d committed, %d dropped", attempts.Load(), commits.Load(), q.Dropped())
}

// TestRingFullNeverOverwrites: with no consumer, each ring keeps its first
// Slots() records and refuses the rest.
func TestRingFullNeverOverwrites(t *testing.T) {
	modes(t, func(t *testing.T, by Indexing) {
		const slots = 8
		q, err := NewRing(32, slots, by)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		buf := make([]byte, 32)
		attempts := slots*q.CPUs() + 100
		committed := 0
		for seq := range attempts {
			fillRecord(buf, uint64(seq), 0)
			if q.Push(buf) {
				committed++
			}
		}
		if committed > slots*q.CPUs() || committed < slots {
			t.Fatalf("%d committed into %d rings of %d", committed, q.CPUs(), slots)
		}
		if got := q.Dropped(); got != uint64(attempts-committed) {
			t.Fatalf("Dropped %d, want %d", got, attempts-committed)
		}
		if q.Len() != committed {
			t.Fatalf("Len %d, want %d", q.Len(), committed)
		}
		chk := newRingChecker(t, 1, attempts)
		if n := q.Drain(chk.record); n != committed {
			t.Fatalf("Drain delivered %d, want %d", n, committed)
		}
		// Which records each ring kept depends on where the goroutine ran;
		// TestRingPinned checks that they are the first ones pushed there.
		if q.Len() != 0 || q.Drain(chk.record) != 0 {
			t.Fatal("records left after Drain")
		}
		if !q.Push(buf) {
			t.Fatal("Push refused after Drain")
		}
	})
}

// TestRingDrainPanics: a consumer that panics loses only the record it was
// handed; the rest come out with the next Drain.
func TestRingDrainPanics(t *testing.T) {
	q, err := NewRing(24, 16, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	buf := make([]byte, 24)
	pushed := 0
	for seq := range 10 {
		fillRecord(buf, uint64(seq), 0)
		if q.Push(buf) {
			pushed++
		}
	}
	seen := 0
	func() {
		defer func() { recover() }()
		q.Drain(func(int, []byte) {
			seen++
			if seen == 3 {
				panic("consumer")
			}
		})
	}()
	rest := q.Drain(func(int, []byte) {})
	if seen+rest < pushed || rest > pushed-3 {
		t.Fatalf("pushed %d, first Drain saw %d before panicking, second %d", pushed, seen, rest)
	}
}

func TestRingBadInput(t *testing.T) {
	for _, c := range []struct{ size, slots int }{{0, 8}, {MaxRingRecord + 1, 8}, {8, 0}, {8, 3}, {8, MaxRingSlots * 2}} {
		if _, err := NewRing(c.size, c.slots, ByCPU); err == nil {
			t.Errorf("NewRing(%d, %d) accepted", c.size, c.slots)
		}
	}
	if _, err := NewRing(8, 8, Indexing(7)); err == nil {
		t.Error("NewRing with an unknown index accepted")
	}
	q, err := NewRing(16, 8, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	mustPanic(t, "record of 15 bytes", func() { q.Push(make([]byte, 15)) })
	mustPanic(t, "record of 17 bytes", func() { q.Push(make([]byte, 17)) })
	mustPanic(t, "out of range", func() { q.DrainCPU(q.CPUs(), func(int, []byte) {}) })
	mustPanic(t, "explicit index", func() { q.DrainCPU(Current, func(int, []byte) {}) })
}

// TestRingUsedAfterClose: every method of a closed Ring panics with a
// message. Push used to fault (SIGSEGV), or write into a ring mapped later
// at the same address.
func TestRingUsedAfterClose(t *testing.T) {
	q, err := NewRing(32, 8, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	rec := make([]byte, 32)
	q.Push(rec)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Rings of the same size, made after the Close: the closed one's
	// addresses must not be theirs (and nothing may land in them).
	var fresh []*Ring
	for range 8 {
		r, err := NewRing(32, 8, ByCPU)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		fresh = append(fresh, r)
	}
	for name, f := range map[string]func(){
		"Push":       func() { q.Push(rec) },
		"Drain":      func() { q.Drain(func(int, []byte) {}) },
		"DrainCPU":   func() { q.DrainCPU(0, func(int, []byte) {}) },
		"Len":        func() { q.Len() },
		"Dropped":    func() { q.Dropped() },
		"RecordSize": func() { q.RecordSize() },
		"Slots":      func() { q.Slots() },
		"CPUs":       func() { q.CPUs() },
	} {
		t.Run(name, func(t *testing.T) { mustPanic(t, "rseq: Ring used after Close", f) })
	}
	for i, r := range fresh {
		if r.mem.base == q.mem.base {
			t.Errorf("ring %d made after Close was mapped at the closed ring's address", i)
		}
		if n := r.Len(); n != 0 {
			t.Errorf("ring %d made after Close holds %d records", i, n)
		}
	}
}
