package rseq

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

func TestSlabAllocFree(t *testing.T) {
	s, err := NewSlab(0, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := slabLayout(0, ByCPU, numaNodes(), pageSize, slabMapped); s.Len() != PossibleCPUs() || s.Stride() != want {
		t.Fatalf("Len %d Stride %d", s.Len(), s.Stride())
	}
	W := int(s.Stride() / 8)
	seen := make(map[*slabChunk][]bool)
	var refs []Ref
	for i := 0; i < 3*W; i++ {
		k := 1 + i%5
		r, err := s.Alloc(k)
		if err != nil {
			t.Fatal(err)
		}
		if r.Words() != k || r.Off()%8 != 0 || r.PerCPU() == nil || r.IsZero() {
			t.Fatalf("bad ref %+v", r)
		}
		if align := uintptr(1) << (bitsLen(k - 1)); r.Off()%(align*8) != 0 {
			t.Fatalf("%d words at offset %d: not aligned to %d words", k, r.Off(), align)
		}
		used := seen[r.chunk]
		if used == nil {
			used = make([]bool, W)
			seen[r.chunk] = used
		}
		for j := 0; j < k; j++ {
			w := int(r.Off()/8) + j
			if used[w] {
				t.Fatalf("word %d handed out twice", w)
			}
			used[w] = true
		}
		refs = append(refs, r)
	}
	st := s.Stats()
	if st.Chunks < 2 || st.Objects != len(refs) {
		t.Fatalf("stats %+v after %d objects", st, len(refs))
	}
	t.Logf("%+v", st)
	if err := s.Close(); err == nil {
		t.Fatal("Close succeeded with live objects")
	}

	// Write every word of every object in every block, free half, and
	// check that reused words come back zero.
	for _, r := range refs {
		for cpu := 0; cpu < s.Len(); cpu++ {
			for j := 0; j < r.Words(); j++ {
				*r.word(cpu, j) = ^uint64(0)
			}
		}
	}
	for i := 0; i < len(refs); i += 2 {
		s.Free(refs[i])
	}
	for i := 0; i < len(refs); i += 2 {
		r, err := s.Alloc(refs[i].Words())
		if err != nil {
			t.Fatal(err)
		}
		for cpu := 0; cpu < s.Len(); cpu++ {
			for j := 0; j < r.Words(); j++ {
				if v := r.PerCPU().Load(cpu, r.Off()+uintptr(j)*8); v != 0 {
					t.Fatalf("reused word not zeroed: %#x", v)
				}
			}
		}
		refs[i] = r
	}
	if st2 := s.Stats(); st2.Chunks != st.Chunks {
		t.Fatalf("freed space not reused: %d chunks, then %d", st.Chunks, st2.Chunks)
	}
	for _, r := range refs {
		s.Free(r)
	}
	if st := s.Stats(); st.Objects != 0 || st.UsedWords != 0 {
		t.Fatalf("stats after freeing everything: %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Alloc(1); !errors.Is(err, ErrSlabClosed) {
		t.Fatalf("Alloc after Close: %v", err)
	}
}

func bitsLen(x int) int {
	n := 0
	for ; x > 0; x >>= 1 {
		n++
	}
	return n
}

func TestSlabBadArgs(t *testing.T) {
	if _, err := NewSlab(12, ByCPU); err == nil {
		t.Fatal("stride 12 accepted")
	}
	if _, err := NewSlab(0, Indexing(7)); err == nil {
		t.Fatal("unknown index accepted")
	}
	s, _ := NewSlab(64, ByCPU)
	if _, err := s.Alloc(9); err == nil {
		t.Fatal("9 words in a 64-byte block accepted")
	}
	if _, err := s.Alloc(0); err == nil {
		t.Fatal("0 words accepted")
	}
	r, err := s.Alloc(2)
	if err != nil {
		t.Fatal(err)
	}
	s.Free(r)
	panics(t, "double free", func() { s.Free(r) })
	other, _ := NewSlab(64, ByCPU)
	r2, _ := other.Alloc(1)
	panics(t, "foreign free", func() { s.Free(r2) })
	s.Free(Ref{})
}

func panics(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

// TestSlabPerCPUAdd: many goroutines add to many objects of one slab
// through its PerCPU; every object's sum over CPUs comes out exact.
func TestSlabPerCPUAdd(t *testing.T) {
	logEngine(t)
	for _, by := range []Indexing{ByCPU, ByConcurrencyID} {
		t.Run(by.String(), func(t *testing.T) {
			s, err := NewSlab(0, by)
			if err != nil {
				t.Fatal(err)
			}
			const objs = 37
			refs := make([]Ref, objs)
			for i := range refs {
				if refs[i], err = s.Alloc(1 + i%3); err != nil {
					t.Fatal(err)
				}
			}
			G, M := workers(), scale(200000)
			var wg sync.WaitGroup
			for g := 0; g < G; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 1))
					for i := 0; i < M; i++ {
						r := refs[rng.IntN(objs)]
						w := rng.IntN(r.Words())
						r.PerCPU().Add(Current, r.Off()+uintptr(w)*8, int64(w+1))
						if i%1024 == 0 {
							runtime.Gosched()
						}
					}
				}(g)
			}
			wg.Wait()
			// Replay the same random choices to get the expected sums.
			want := make([][]int64, objs)
			for i := range want {
				want[i] = make([]int64, refs[i].Words())
			}
			for g := 0; g < G; g++ {
				rng := rand.New(rand.NewPCG(uint64(g), 1))
				for i := 0; i < M; i++ {
					o := rng.IntN(objs)
					w := rng.IntN(refs[o].Words())
					want[o][w] += int64(w + 1)
				}
			}
			for o, r := range refs {
				for w := 0; w < r.Words(); w++ {
					var sum int64
					for cpu := 0; cpu < s.Len(); cpu++ {
						sum += int64(r.PerCPU().Load(cpu, r.Off()+uintptr(w)*8))
					}
					if sum != want[o][w] {
						t.Errorf("object %d word %d: sum %d, want %d", o, w, sum, want[o][w])
					}
				}
			}
			for _, r := range refs {
				s.Free(r)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSlabConcurrentAlloc: goroutines allocate, own, check and free objects
// concurrently; no word is ever owned by two objects at once.
func TestSlabConcurrentAlloc(t *testing.T) {
	s, err := NewSlab(512, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	G, M := workers(), scale(20000)
	var wg sync.WaitGroup
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			tag := uint64(g + 1)
			var mine []Ref
			for i := 0; i < M; i++ {
				if len(mine) < 8 && (i%3 != 0 || len(mine) == 0) {
					r, err := s.Alloc(1 + i%4)
					if err != nil {
						t.Error(err)
						return
					}
					for j := 0; j < r.Words(); j++ {
						if v := *r.word(0, j); v != 0 {
							t.Errorf("new object not zero: %d", v)
						}
						*r.word(0, j) = tag
					}
					mine = append(mine, r)
					continue
				}
				r := mine[len(mine)-1]
				mine = mine[:len(mine)-1]
				for j := 0; j < r.Words(); j++ {
					if v := *r.word(0, j); v != tag {
						t.Errorf("object shared: word holds %d, want %d", v, tag)
					}
				}
				s.Free(r)
			}
			for _, r := range mine {
				s.Free(r)
			}
		}(g)
	}
	wg.Wait()
	if st := s.Stats(); st.Objects != 0 {
		t.Fatalf("%+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkSlabAllocFree(b *testing.B) {
	s, _ := NewSlab(0, ByCPU)
	for b.Loop() {
		r, err := s.Alloc(1)
		if err != nil {
			b.Fatal(err)
		}
		s.Free(r)
	}
}
