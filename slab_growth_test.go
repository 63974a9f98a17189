package rseq

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSlabClasses: every bound lands in a class, classes grow with the
// bound, and a request searching from slabClassAtLeast(k) only meets
// bounds of k words or more, skipping as little as the classes allow.
func TestSlabClasses(t *testing.T) {
	const top = MaxSlabStride / 8
	minOf := make(map[int]int) // class -> smallest bound in it
	prev := 0
	for v := 1; v <= top; v++ {
		c := slabClass(v)
		if c < prev || c >= slabClasses {
			t.Fatalf("bound %d: class %d after %d (of %d)", v, c, prev, slabClasses)
		}
		if _, ok := minOf[c]; !ok {
			minOf[c] = v
		}
		prev = c
	}
	for k := 1; k <= top; k++ {
		c := slabClassAtLeast(k)
		m, ok := minOf[c]
		if !ok && c <= prev {
			t.Fatalf("k=%d: class %d holds no bound", k, c)
		}
		if ok && m < k {
			t.Fatalf("k=%d: class %d holds bound %d < k", k, c, m)
		}
		if k < 16 && m != k {
			t.Fatalf("k=%d: searching from bound %d skips bounds that fit", k, m)
		}
		if ok && float64(m-k) > float64(k)/8+1 {
			t.Fatalf("k=%d: searching from bound %d skips more than an eighth", k, m)
		}
	}
}

// TestSlabFindMaxFit: on random allocation maps, find agrees with the
// first-fit scan word by word, and maxFit is exactly the largest object
// find places.
func TestSlabFindMaxFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, W := range []int{8, 63, 64, 65, 504, 512} {
		for iter := 0; iter < 300; iter++ {
			c := &slabChunk{used: make([]uint64, (W+63)/64), size: make([]uint32, W)}
			density := rng.Float64()
			for w := 0; w < W; w++ {
				if rng.Float64() < density {
					c.used[w/64] |= 1 << (w % 64)
				}
			}
			naive := func(k, align int) int {
			outer:
				for w := 0; w+k <= W; w += align {
					for j := w; j < w+k; j++ {
						if c.isUsed(j) {
							continue outer
						}
					}
					return w
				}
				return -1
			}
			largest := 0
			for k := 1; k <= W; k++ {
				got, want := c.find(k, slabAlign(k)), naive(k, slabAlign(k))
				if got != want {
					t.Fatalf("W=%d k=%d: find %d, first fit %d", W, k, got, want)
				}
				if got >= 0 {
					largest = k
				}
			}
			if m := c.maxFit(); m != largest {
				t.Fatalf("W=%d density %.2f: maxFit %d, largest fit %d", W, density, m, largest)
			}
		}
	}
}

// TestSlabAllocLooksAtFewChunks: Alloc looks into O(1) chunks per call,
// however many chunks are full or too fragmented for the object. Before,
// it scanned every chunk (7.3 µs per NewCounter at 4M live counters).
func TestSlabAllocLooksAtFewChunks(t *testing.T) {
	s, err := NewSlab(512, ByCPU) // 64 words a chunk
	if err != nil {
		t.Fatal(err)
	}
	const chunks = 200
	var refs []Ref
	for i := 0; i < chunks*64; i++ {
		r, err := s.Alloc(1)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	if st := s.Stats(); st.Chunks != chunks {
		t.Fatalf("%d chunks for %d words, want %d", st.Chunks, chunks*64, chunks)
	}
	// Full chunks: a one-word Alloc must not look at them.
	s.probes = 0
	var more []Ref
	for range 1000 {
		r, _ := s.Alloc(1)
		more = append(more, r)
	}
	if s.probes > 1000 {
		t.Errorf("1000 Allocs beside %d full chunks looked into %d chunks", chunks, s.probes)
	}
	// Fragment every chunk: free every other word. 32 free words each,
	// but no two adjacent: a 2-word object fits nowhere. Each chunk may be
	// looked into once to learn that, then never again.
	for i := 0; i < chunks*64; i += 2 {
		s.Free(refs[i])
	}
	s.probes = 0
	for range 1000 {
		r, _ := s.Alloc(2)
		more = append(more, r)
	}
	if s.probes > chunks+1000 {
		t.Errorf("1000 two-word Allocs beside %d fragmented chunks looked into %d chunks (want at most %d)", chunks, s.probes, chunks+1000)
	}
	// The one-word holes are still found.
	before := s.Stats().Chunks
	for range chunks * 32 {
		r, _ := s.Alloc(1)
		more = append(more, r)
	}
	if st := s.Stats(); st.Chunks != before {
		t.Errorf("one-word holes not reused: %d chunks, then %d", before, st.Chunks)
	}
	for i := 1; i < chunks*64; i += 2 {
		s.Free(refs[i])
	}
	for _, r := range more {
		s.Free(r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSlabUnmapsFreeChunks: a chunk whose objects are all freed is
// unmapped, but for one spare kept for the next Alloc.
func TestSlabUnmapsFreeChunks(t *testing.T) {
	s, err := NewSlab(512, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	var refs []Ref
	for i := 0; i < 100*64; i++ {
		r, err := s.Alloc(1 + i%3)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	full := s.Stats()
	// Free in an order that empties chunks out of turn.
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(refs), func(i, j int) { refs[i], refs[j] = refs[j], refs[i] })
	for _, r := range refs[:len(refs)/2] {
		s.Free(r)
	}
	for _, r := range refs[len(refs)/2:] {
		s.Free(r)
	}
	st := s.Stats()
	t.Logf("full: %+v; emptied: %+v", full, st)
	if st.Chunks != 1 || st.Objects != 0 || st.Bytes >= full.Bytes/10 {
		t.Fatalf("after freeing everything: %+v (full: %+v), want one spare chunk mapped", st, full)
	}
	// Freed-and-unmapped chunks' Refs are stale: freeing again panics.
	panics(t, "Free of an object of an unmapped chunk", func() { s.Free(refs[0]) })
	r, err := s.Alloc(1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Stats().Chunks != 1 {
		t.Fatalf("Alloc mapped a chunk beside the spare: %+v", s.Stats())
	}
	s.Free(r)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkSlabAllocLive: the cost of one Alloc (and its Free) beside n
// live objects. It must stay flat from 10^3 to 10^6 (it grew linearly:
// every Alloc scanned every chunk).
func BenchmarkSlabAllocLive(b *testing.B) {
	for _, n := range []int{1e3, 1e4, 1e5, 1e6} {
		b.Run(fmt.Sprintf("live=%d", n), func(b *testing.B) {
			s, err := NewSlab(0, ByCPU)
			if err != nil {
				b.Fatal(err)
			}
			refs := make([]Ref, n)
			for i := range refs {
				if refs[i], err = s.Alloc(1); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				r, err := s.Alloc(1)
				if err != nil {
					b.Fatal(err)
				}
				s.Free(r)
			}
			b.StopTimer()
			for _, r := range refs {
				s.Free(r)
			}
			s.Close()
		})
	}
}

// BenchmarkNewCounterLive: NewCounterIn and Close beside n live counters
// of the same slab.
func BenchmarkNewCounterLive(b *testing.B) {
	for _, n := range []int{1e3, 1e4, 1e5, 1e6} {
		b.Run(fmt.Sprintf("live=%d", n), func(b *testing.B) {
			s, err := NewSlab(0, ByCPU)
			if err != nil {
				b.Fatal(err)
			}
			cs := make([]*Counter, n)
			for i := range cs {
				if cs[i], err = NewCounterIn(s); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				c, err := NewCounterIn(s)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
			b.StopTimer()
			for _, c := range cs {
				c.Close()
			}
			s.Close()
		})
	}
}
