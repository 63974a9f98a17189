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

// BenchmarkFreeListParts: FreeList Get+Put beside the two primitives it is
// made of (rsStackPop and rsStackPush called directly on its stack), 8
// goroutines: what FreeList's own code adds.
//
//	go test -run '^$' -bench FreeListParts -count 10 . | benchstat -col /op -
func BenchmarkFreeListParts(b *testing.B) {
	b.Run("op=FreeList.Get+Put", func(b *testing.B) {
		f, err := NewFreeList(0)
		if err != nil {
			b.Fatal(err)
		}
		for h := range 1024 {
			f.PutShared(uint32(h))
		}
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if h, ok := f.Get(); ok {
					f.Put(h)
				}
			}
		})
	})
	b.Run("op=rsStackPop+rsStackPush", func(b *testing.B) {
		f, err := NewFreeList(0)
		if err != nil {
			b.Fatal(err)
		}
		for h := range f.Capacity() * PossibleCPUs() / 2 {
			f.Put(uint32(h)) // into the caches, where the primitives work
		}
		st := &f.stk
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if v, ok := rsStackPop(st); ok {
					rsStackPush(st, v)
				}
			}
		})
	})
}
