package bench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorseq/rseq"
)

// Producers push 64-byte records into a bounded buffer, dropping when it
// is full, while one consumer goroutine drains it. Same capacity for all:
// ringSlots records per possible CPU. %full says how many pushes found the
// buffer full (the consumer shares the two cores with the producers).

const (
	recSize   = 64
	ringSlots = 1024
)

type record [recSize]byte

// consume runs drain in a loop until stop, yielding when it finds nothing.
func consume(drain func() int) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			if drain() == 0 {
				runtime.Gosched()
			}
		}
	}()
	return func() { done.Store(true); wg.Wait() }
}

// reportFull reports the pushes that found the buffer full, per 100 ops.
func reportFull(b *testing.B, full int64) {
	b.ReportMetric(100*float64(full)/float64(b.N), "%full")
}

// bounded is one implementation under test: push a record (false: full),
// drain everything (returning how many), the drops counted so far.
type bounded struct {
	push  func(*record) bool
	drain func() int
	drops func() int64
	close func()
}

var boundedImpls = []struct {
	name string
	make func(b *testing.B) bounded
}{
	{"rseq.Ring", func(b *testing.B) bounded {
		q, err := rseq.NewRing(recSize, ringSlots, rseq.ByCPU)
		if err != nil {
			b.Fatal(err)
		}
		var sink byte
		return bounded{
			push:  func(r *record) bool { return q.Push(r[:]) },
			drain: func() int { return q.Drain(func(_ int, r []byte) { sink += r[0] }) },
			drops: func() int64 { return int64(q.Dropped()) },
			close: func() { q.Close() },
		}
	}},
	{"chan", func(b *testing.B) bounded {
		ch := make(chan record, ringSlots*rseq.PossibleCPUs())
		var drops atomic.Int64
		var sink byte
		return bounded{
			push: func(r *record) bool {
				select {
				case ch <- *r:
					return true
				default:
					drops.Add(1)
					return false
				}
			},
			drain: func() int {
				for n := 0; ; n++ {
					select {
					case r := <-ch:
						sink += r[0]
					default:
						return n
					}
				}
			},
			drops: drops.Load,
			close: func() {},
		}
	}},
	{"mutex-ring", func(b *testing.B) bounded {
		q := &mutexRing{buf: make([]record, ringSlots*rseq.PossibleCPUs())}
		var sink byte
		var scratch record
		return bounded{
			push:  q.push,
			drain: func() int { return q.drain(&scratch, func(r *record) { sink += r[0] }) },
			drops: q.drops.Load,
			close: func() {},
		}
	}},
}

// BenchmarkRingPush: pushes that find the buffer full drop the record.
// With 8 producers and one consumer on two cores most pushes find it full:
// this measures the cost of an attempt, mostly of the full check.
func BenchmarkRingPush(b *testing.B) {
	for _, impl := range boundedImpls {
		b.Run(impl.name, func(b *testing.B) {
			q := impl.make(b)
			defer q.close()
			stop := consume(q.drain)
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				var rec record
				for pb.Next() {
					rec[0]++
					q.push(&rec)
				}
			})
			stop()
			reportFull(b, q.drops())
		})
	}
}

// BenchmarkRingDeliver: every record is delivered; a producer that finds
// the buffer full yields and tries again. ns/op is the time per record
// through the whole pipeline, consumer included.
func BenchmarkRingDeliver(b *testing.B) {
	for _, impl := range boundedImpls {
		b.Run(impl.name, func(b *testing.B) {
			q := impl.make(b)
			defer q.close()
			stop := consume(q.drain)
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				var rec record
				for pb.Next() {
					rec[0]++
					for !q.push(&rec) {
						runtime.Gosched()
					}
				}
			})
			stop()
			q.drain()
			reportFull(b, q.drops())
		})
	}
}

// mutexRing is the obvious shared ring: one lock, one buffer.
type mutexRing struct {
	mu    sync.Mutex
	buf   []record
	r, w  uint64
	drops atomic.Int64
}

func (q *mutexRing) push(rec *record) bool {
	q.mu.Lock()
	if q.w-q.r == uint64(len(q.buf)) {
		q.mu.Unlock()
		q.drops.Add(1)
		return false
	}
	q.buf[q.w%uint64(len(q.buf))] = *rec
	q.w++
	q.mu.Unlock()
	return true
}

// drain copies each record out under the lock, one at a time, as Ring's
// consumer does, so that producers are not held off for a whole batch.
func (q *mutexRing) drain(scratch *record, f func(*record)) int {
	n := 0
	for {
		q.mu.Lock()
		if q.r == q.w {
			q.mu.Unlock()
			return n
		}
		*scratch = q.buf[q.r%uint64(len(q.buf))]
		q.r++
		q.mu.Unlock()
		f(scratch)
		n++
	}
}

// BenchmarkRingRoundTrip: one goroutine, no consumer beside it: push a
// batch of records, then drain them all; ns/op is per record. This is the
// work each record costs the producer and the consumer together, without
// the scheduler: RingDeliver's ns/op is several times this for every
// implementation, because there the one consumer goroutine gets only its
// fair share of the two cores beside eight producers (see BENCHMARKS.md).
func BenchmarkRingRoundTrip(b *testing.B) {
	const batch = 256 // fits every implementation's capacity on one CPU
	for _, impl := range boundedImpls {
		b.Run(impl.name, func(b *testing.B) {
			q := impl.make(b)
			defer q.close()
			var rec record
			for i := 0; i < b.N; i += batch {
				n := min(batch, b.N-i)
				for range n {
					rec[0]++
					for !q.push(&rec) {
						q.drain() // migrated mid-batch: another CPU's ring is fuller
					}
				}
				q.drain()
			}
		})
	}
}
