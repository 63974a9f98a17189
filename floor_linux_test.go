//go:build linux && (amd64 || arm64) && !race

package rseq

import "testing"

// The call floor beside the operations built on it, one goroutine: what
// an operation costs above the call is what the engine adds.
//
//	go test -run '^$' -bench 'Floor|1G' -count 10 . | benchstat -col /op -

func BenchmarkFloor1G(b *testing.B) {
	var s blocks
	b.Run("op=PerCPU.Add", func(b *testing.B) {
		p := newTestPerCPU(b, 64, ByCPU)
		for range b.N {
			p.Add(Current, 0, 1)
		}
	})
	b.Run("op=floor-add", func(b *testing.B) {
		var sink uint64
		for range b.N {
			v, _, _ := floorAdd(&s, Current, 0, 1)
			sink += v
		}
		sinkAtomic.Store(int64(sink))
	})
	b.Run("op=Counter.Add", func(b *testing.B) {
		c := NewCounter()
		for range b.N {
			c.Add(1)
		}
	})
	b.Run("op=floor-cell", func(b *testing.B) {
		c := new(cell)
		for range b.N {
			floorCell(c, 1)
		}
	})
	b.Run("op=CPU", func(b *testing.B) {
		var sink int
		for range b.N {
			sink += CPU()
		}
		sinkAtomic.Store(int64(sink))
	})
	b.Run("op=floor-cpu", func(b *testing.B) {
		var sink uint32
		for range b.N {
			sink += floorCPU()
		}
		sinkAtomic.Store(int64(sink))
	})
}
