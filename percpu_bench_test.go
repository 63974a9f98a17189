package rseq

import (
	"sync/atomic"
	"testing"
)

// Benchmarks of the engine against what Go programs use today. Run:
//
//	go test -run '^$' -bench . -count 10 | tee new.txt; benchstat new.txt
//
// RunParallel with SetParallelism(4) runs 4*GOMAXPROCS goroutines (8 on a
// 2-core machine); ns/op is wall time per operation across all of them,
// so "per op per core" is ns/op * GOMAXPROCS.

func BenchmarkPerCPUAdd(b *testing.B) {
	p := newTestPerCPU(b, 64, ByCPU)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Add(Current, 0, 1)
		}
	})
}

func BenchmarkPerCPUAddConcurrencyID(b *testing.B) {
	p := newTestPerCPU(b, 64, ByConcurrencyID)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Add(Current, 0, 1)
		}
	})
}

func BenchmarkAtomicAddShared(b *testing.B) {
	var n int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			atomic.AddInt64(&n, 1)
		}
	})
}

// shards are per-P counters, each on its own cache lines.
type shard struct {
	n int64
	_ [120]byte
}

func BenchmarkPerPShardAtomic(b *testing.B) {
	s := make([]shard, 256)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := procPin()
			procUnpin()
			atomic.AddInt64(&s[i&255].n, 1)
		}
	})
}

func BenchmarkPerPShardPlain(b *testing.B) {
	s := make([]shard, 256)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := procPin()
			s[i&255].n++ // safe: pinned to the P
			procUnpin()
		}
	})
}

func BenchmarkCPU(b *testing.B) {
	var s int
	for i := 0; i < b.N; i++ {
		s += CPU()
	}
	sinkAtomic.Store(int64(s))
}

func BenchmarkPushPop(b *testing.B) {
	p := newTestPerCPU(b, 256, ByCPU)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Push(Current, 0, 8, 30, 1)
			p.Pop(Current, 0, 8, 30)
		}
	})
}
