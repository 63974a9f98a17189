package rseq

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestCounterVecBasic(t *testing.T) {
	for _, bad := range [][]string{{""}, {"path", ""}, {"path", "code", "path"}} {
		if _, err := NewCounterVec(bad...); err == nil {
			t.Errorf("NewCounterVec(%q): no error", bad)
		}
	}
	if _, err := NewCounterVecIn(nil, "a"); err == nil {
		t.Error("NewCounterVecIn(nil): no error")
	}
	names := []string{"path", "code"}
	v, err := NewCounterVec(names...)
	if err != nil {
		t.Fatal(err)
	}
	names[0] = "changed" // NewCounterVec copied them
	if !slices.Equal(v.Labels(), []string{"path", "code"}) {
		t.Fatalf("labels %q", v.Labels())
	}
	a := v.With("/a", "200")
	a.Inc()
	vals := []string{"/a", "200"}
	if v.With(vals...) != a {
		t.Fatal("same values, another counter")
	}
	vals[0] = "/b" // With copied the values it keyed a by
	b := v.With(vals...)
	if b == a {
		t.Fatal("other values, same counter")
	}
	b.Add(5)
	// Concatenations that collide must not share a counter.
	v.With("/a2", "00").Add(7)
	v.With("/a", "").Add(11)
	v.With("", "/a").Add(13)
	if v.Len() != 5 {
		t.Fatalf("Len %d, want 5", v.Len())
	}
	var got []string
	for vals, c := range v.All() {
		got = append(got, fmt.Sprintf("%q=%d", vals, c.Load()))
	}
	want := []string{`["/a" "200"]=1`, `["/b" "200"]=5`, `["/a2" "00"]=7`, `["/a" ""]=11`, `["" "/a"]=13`}
	if !slices.Equal(got, want) {
		t.Fatalf("All: %v, want %v", got, want)
	}
	for range v.All() {
		break // stopping early is fine
	}

	if !v.Delete("/a", "200") || v.Delete("/a", "200") || v.Delete("/zz", "1") {
		t.Fatal("Delete results wrong")
	}
	if v.Len() != 4 {
		t.Fatalf("Len after Delete %d", v.Len())
	}
	if c := v.With("/a", "200"); c == a || c.Load() != 0 {
		t.Fatalf("after Delete With returned the old counter or a non-zero one (%d)", c.Load())
	}
	a.Inc() // the deleted counter still works for whoever holds it

	mustPanic(t, "CounterVec.With: 1 label values for 2 labels", func() { v.With("/a") })
	mustPanic(t, "CounterVec.Delete: 3 label values", func() { v.Delete("a", "b", "c") })

	none, _ := NewCounterVec()
	none.With().Inc()
	if none.With().Load() != 1 || none.Len() != 1 {
		t.Fatal("vector without labels")
	}
}

// TestCounterVecCollisions: entries whose hashes collide share a chain and
// are still told apart by their values.
func TestCounterVecCollisions(t *testing.T) {
	v, _ := NewCounterVec("k")
	v.mu.Lock()
	a := v.add(42, []string{"a"})
	b := v.add(42, []string{"b"})
	v.publish()
	c := v.add(42, []string{"c"}) // not yet published
	v.mu.Unlock()
	m := *v.read.Load()
	if len(m[42]) != 2 || find(m, 42, []string{"a"}) != a || find(m, 42, []string{"b"}) != b || find(m, 42, []string{"c"}) != nil {
		t.Fatalf("published chain %v", m[42])
	}
	if find(v.dirty, 42, []string{"c"}) != c || len(v.dirty[42]) != 3 {
		t.Fatal("dirty chain")
	}
	if v.slow(42, []string{"c"}) != c.c {
		t.Fatal("slow path did not find the unpublished entry")
	}
}

func TestCounterVecNoAllocOnHit(t *testing.T) {
	v, _ := NewCounterVec("path", "code")
	for i := 0; i < 50; i++ { // many counters, and the lookups that publish them
		for j := 0; j < 3; j++ {
			v.With(fmt.Sprint("/p", i), "200").Inc()
		}
	}
	path := "/p7"
	if n := testing.AllocsPerRun(1000, func() { v.With(path, "200").Inc() }); n != 0 {
		t.Errorf("With+Inc of an existing counter: %v allocations", n)
	}
	if got := v.With(path, "200").Load(); got != 3+1001 {
		t.Errorf("count %d, want %d", got, 3+1001)
	}
}

// TestCounterVecExact: goroutines increment counters of a dozen label
// pairs, creating them concurrently, under preemption and signals, while
// another goroutine iterates; every counter ends exact, and no pair got
// two counters.
func TestCounterVecExact(t *testing.T) {
	logEngine(t)
	v, _ := NewCounterVec("path", "code")
	paths := []string{"/", "/api/v1/items", "/login"}
	codes := []string{"200", "404", "500", "503"}
	M := opsPerGoroutine() / 4
	var stop atomic.Bool
	var rw sync.WaitGroup
	rw.Add(1)
	go func() {
		defer rw.Done()
		for !stop.Load() {
			seen := map[string]bool{}
			for vals := range v.All() {
				k := strings.Join(vals, " ")
				if seen[k] {
					t.Errorf("two counters for %q", k)
				}
				seen[k] = true
			}
			runtime.Gosched()
		}
	}()
	var G atomic.Int64
	hammer(t, func(g int) {
		G.Add(1)
		for i := 0; i < M; i++ {
			k := (g + i) % 12
			v.With(paths[k%3], codes[k/3]).Inc()
			if i%8192 == 0 {
				runtime.Gosched()
			}
		}
	})
	stop.Store(true)
	rw.Wait()
	want := make([]int64, 12)
	for g := 0; g < int(G.Load()); g++ {
		for i := 0; i < M; i++ {
			want[(g+i)%12]++
		}
	}
	if v.Len() != 12 {
		t.Fatalf("%d counters, want 12", v.Len())
	}
	for k := range want {
		if got := v.With(paths[k%3], codes[k/3]).Load(); got != want[k] {
			t.Errorf("%s %s: %d, want %d", paths[k%3], codes[k/3], got, want[k])
		}
	}
}

func BenchmarkCounterVecWithInc(b *testing.B) {
	v, _ := NewCounterVec("path", "code")
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v.With("/api/v1/items", "200").Inc()
		}
	})
}
