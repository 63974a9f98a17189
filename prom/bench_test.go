package prom

import (
	"sync"
	"testing"
	_ "unsafe" // go:linkname

	"github.com/gorseq/rseq"
	"github.com/prometheus/client_golang/prometheus"
)

// The benchmarks compare each rseq metric with client_golang's, in one
// run: b.RunParallel with SetParallelism(4), so 4*GOMAXPROCS goroutines
// that preempt and migrate as in a busy server; ns/op is wall time per
// operation across all of them, cpu-ns/op the process's CPU time (user and
// system) per operation, which other load on the machine disturbs less.
// See ../BENCHMARKS.md for the commands.

// parallel runs body in 4*GOMAXPROCS goroutines and reports cpu-ns/op.
func parallel(b *testing.B, body func(pb *testing.PB)) {
	b.SetParallelism(4)
	start := cpuTime()
	b.RunParallel(body)
	if used := cpuTime() - start; used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkCounterInc(b *testing.B) {
	b.Run("rseq", func(b *testing.B) {
		c := rseq.NewCounter()
		parallel(b, func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
	b.Run("client_golang", func(b *testing.B) {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "c_total", Help: "h"})
		parallel(b, func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
}

// BenchmarkCounterVecInc looks the counter up by its label values on every
// operation, as instrumentation middleware does.
func BenchmarkCounterVecInc(b *testing.B) {
	b.Run("rseq", func(b *testing.B) {
		v, _ := rseq.NewCounterVec("path", "code")
		parallel(b, func(pb *testing.PB) {
			for pb.Next() {
				v.With("/api/v1/items", "200").Inc()
			}
		})
	})
	b.Run("client_golang", func(b *testing.B) {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total", Help: "h"}, []string{"path", "code"})
		parallel(b, func(pb *testing.PB) {
			for pb.Next() {
				v.WithLabelValues("/api/v1/items", "200").Inc()
			}
		})
	})
}

// BenchmarkHistogramObserve observes values spread over the default
// buckets (0 to 12 s in steps of 10 ms).
func BenchmarkHistogramObserve(b *testing.B) {
	b.Run("rseq", func(b *testing.B) {
		h, _ := rseq.NewHistogram(rseq.DefaultBounds())
		parallel(b, func(pb *testing.PB) {
			v := 0.0
			for pb.Next() {
				h.Observe(v)
				if v += 0.01; v > 12 {
					v = 0
				}
			}
		})
	})
	b.Run("client_golang", func(b *testing.B) {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h_seconds", Help: "h", Buckets: prometheus.DefBuckets})
		parallel(b, func(pb *testing.PB) {
			v := 0.0
			for pb.Next() {
				h.Observe(v)
				if v += 0.01; v > 12 {
					v = 0
				}
			}
		})
	})
}

// runtime.procPin pins the goroutine to its P and returns the P's id, as
// sync.Pool uses it: the per-P sharding Go programs can do today.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// pair is the sharded value: two words updated together.
type pair struct{ n, sum int64 }

// BenchmarkShardedUpdate updates a two-word value, with the ways a Go
// program can shard it: rseq.Sharded (per CPU, under the CPU's lock), one
// sync.Mutex, per-P shards each under a sync.Mutex (the goroutine may be
// preempted inside, so a lock is needed when f is arbitrary), and per-P
// shards updated while pinned to the P (no lock; applies only when f is
// a few instructions that cannot block, since pinning stops preemption).
func BenchmarkShardedUpdate(b *testing.B) {
	b.Run("rseq.Sharded", func(b *testing.B) {
		s := rseq.NewSharded[pair]()
		parallel(b, func(pb *testing.PB) {
			for pb.Next() {
				s.Update(func(v *pair) { v.n++; v.sum += 3 })
			}
		})
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		var v pair
		parallel(b, func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				v.n++
				v.sum += 3
				mu.Unlock()
			}
		})
	})
	type lockedShard struct {
		mu sync.Mutex
		v  pair
		_  [128]byte
	}
	b.Run("per-P+Mutex", func(b *testing.B) {
		shards := make([]lockedShard, 256)
		parallel(b, func(pb *testing.PB) {
			for pb.Next() {
				s := &shards[procPin()&255]
				procUnpin()
				s.mu.Lock()
				s.v.n++
				s.v.sum += 3
				s.mu.Unlock()
			}
		})
	})
	type pinnedShard struct {
		v pair
		_ [128]byte
	}
	b.Run("per-P-pinned", func(b *testing.B) {
		shards := make([]pinnedShard, 256)
		parallel(b, func(pb *testing.PB) {
			for pb.Next() {
				s := &shards[procPin()&255]
				s.v.n++
				s.v.sum += 3
				procUnpin()
			}
		})
	})
}
