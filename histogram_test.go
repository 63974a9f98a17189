package rseq

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramBoundsErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		bounds []float64
		want   string
	}{
		{"nil", nil, "no bounds"},
		{"empty", []float64{}, "no bounds"},
		{"NaN", []float64{1, math.NaN()}, "finite"},
		{"+Inf", []float64{1, math.Inf(1)}, "finite"},
		{"-Inf", []float64{math.Inf(-1), 1}, "finite"},
		{"unsorted", []float64{1, 3, 2}, "strictly increasing"},
		{"duplicate", []float64{1, 2, 2}, "strictly increasing"},
	} {
		h, err := NewHistogram(c.bounds)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "NewHistogram") {
			t.Errorf("%s: NewHistogram(%v) = %v, %v; want an error mentioning %q", c.name, c.bounds, h, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		f    func() ([]float64, error)
	}{
		{"linear count 0", func() ([]float64, error) { return LinearBounds(0, 1, 0) }},
		{"linear width 0", func() ([]float64, error) { return LinearBounds(0, 0, 3) }},
		{"linear width<0", func() ([]float64, error) { return LinearBounds(0, -1, 3) }},
		{"linear NaN start", func() ([]float64, error) { return LinearBounds(math.NaN(), 1, 3) }},
		{"linear overflow", func() ([]float64, error) { return LinearBounds(0, math.MaxFloat64, 3) }},
		{"linear width absorbed", func() ([]float64, error) { return LinearBounds(1e20, 1, 3) }},
		{"exponential start 0", func() ([]float64, error) { return ExponentialBounds(0, 2, 3) }},
		{"exponential factor 1", func() ([]float64, error) { return ExponentialBounds(1, 1, 3) }},
		{"exponential NaN factor", func() ([]float64, error) { return ExponentialBounds(1, math.NaN(), 3) }},
		{"exponential overflow", func() ([]float64, error) { return ExponentialBounds(1, 1e300, 3) }},
		{"exponential count -1", func() ([]float64, error) { return ExponentialBounds(1, 2, -1) }},
	} {
		if b, err := c.f(); err == nil {
			t.Errorf("%s: %v, no error", c.name, b)
		}
	}
	lin, err := LinearBounds(-1, 0.5, 4)
	if err != nil || !slices.Equal(lin, []float64{-1, -0.5, 0, 0.5}) {
		t.Errorf("LinearBounds(-1, 0.5, 4) = %v, %v", lin, err)
	}
	exp, err := ExponentialBounds(0.001, 10, 4)
	if err != nil || len(exp) != 4 || exp[0] != 0.001 || math.Abs(exp[3]-1) > 1e-12 {
		t.Errorf("ExponentialBounds(0.001, 10, 4) = %v, %v", exp, err)
	}
	if err := checkBounds(DefaultBounds()); err != nil {
		t.Error(err)
	}
	// Too many bounds for the slab's blocks: an error, not a panic.
	s, err := NewSlab(64, ByCPU) // 8 words: at most 6 bounds
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewHistogramIn(s, []float64{1, 2, 3, 4, 5, 6, 7}); err == nil {
		t.Error("7 bounds in 8-word blocks: no error")
	}
	h, err := NewHistogramIn(s, []float64{1, 2, 3, 4, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
}

// TestHistogramBuckets: values on, between, below and above the bounds
// land in the bucket Prometheus puts them in (upper bounds inclusive).
func TestHistogramBuckets(t *testing.T) {
	bounds := []float64{-1, 0, 0.5, 2}
	h, err := NewHistogram(bounds)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	bounds[0] = -100 // NewHistogram copied them
	vals := []float64{-5, -1, -0.75, 0, 0.25, 0.5, 0.5, 1, 2, 3, math.Inf(1), math.Inf(-1)}
	for _, v := range vals {
		h.Observe(v)
	}
	h.ObserveDuration(1500 * time.Millisecond)
	s := h.Snapshot()
	if !slices.Equal(s.Bounds, []float64{-1, 0, 0.5, 2}) {
		t.Fatalf("bounds %v", s.Bounds)
	}
	// <=-1: -5 -1 -Inf; <=0: -0.75 0; <=0.5: 0.25 0.5 0.5; <=2: 1 2 1.5s; +Inf: 3 +Inf.
	if want := []uint64{3, 5, 8, 11}; !slices.Equal(s.Cumulative, want) {
		t.Errorf("cumulative %v, want %v", s.Cumulative, want)
	}
	if s.Count != 13 {
		t.Errorf("count %d, want 13", s.Count)
	}
	if !math.IsNaN(s.Sum) { // +Inf + -Inf
		t.Errorf("sum %v, want NaN (+Inf and -Inf observed)", s.Sum)
	}

	h2, _ := NewHistogram(DefaultBounds())
	defer h2.Close()
	want := 0.0
	for _, v := range []float64{0.004, 0.3, 7, 12, 0.01} {
		h2.Observe(v)
		want += v
	}
	s = h2.Snapshot()
	if s.Count != 5 || s.Sum != want || s.Cumulative[0] != 1 || s.Cumulative[1] != 2 || s.Cumulative[len(s.Cumulative)-1] != 4 {
		t.Errorf("snapshot %+v (sum want %v)", s, want)
	}
	h2.Observe(math.NaN())
	if s = h2.Snapshot(); s.Count != 6 || s.Cumulative[len(s.Cumulative)-1] != 4 || !math.IsNaN(s.Sum) {
		t.Errorf("after NaN: %+v, want NaN counted in +Inf only and a NaN sum", s)
	}
}

// TestHistogramBinarySearch: with more bounds than the linear scan takes,
// every value lands where the scan would put it.
func TestHistogramBinarySearch(t *testing.T) {
	bounds, err := LinearBounds(0, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHistogram(bounds)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	linear := func(v float64) int {
		for i, u := range bounds {
			if v <= u {
				return i
			}
		}
		return len(bounds)
	}
	for _, v := range []float64{-1, 0, 0.5, 1, 42, 42.5, 99, 99.5, 100, math.Inf(1), math.Inf(-1), math.NaN()} {
		if got, want := h.bucket(v), linear(v); got != want {
			t.Errorf("bucket(%v) = %d, want %d", v, got, want)
		}
	}
}

// checkSnapshot fails unless s is a consistent Prometheus histogram
// sample: cumulative counts that never decrease and never exceed Count.
func checkSnapshot(t *testing.T, s HistogramSnapshot) bool {
	t.Helper()
	if len(s.Cumulative) != len(s.Bounds) {
		t.Errorf("%d cumulative counts for %d bounds", len(s.Cumulative), len(s.Bounds))
		return false
	}
	for i := 1; i < len(s.Cumulative); i++ {
		if s.Cumulative[i] < s.Cumulative[i-1] {
			t.Errorf("cumulative counts decrease: %v", s.Cumulative)
			return false
		}
	}
	if n := len(s.Cumulative); n > 0 && s.Cumulative[n-1] > s.Count {
		t.Errorf("last bucket %d > count %d", s.Cumulative[n-1], s.Count)
		return false
	}
	return true
}

// TestHistogramExactAndConsistent: goroutines observe a known multiset of
// values under preemption, profiling signals and a signal storm while a
// reader takes snapshots. Every snapshot is consistent: as every value is
// within the last bound, its count equals its last bucket (a count read
// apart from the buckets would not: that is what a histogram hand-built
// from a count word and bucket words shows under load), and no count goes
// backwards from one snapshot to the next. Afterwards every bucket count
// and the sum are exact (the values are multiples of 1/4, so the float
// sums are exact too), which also shows that no compare-and-swap of the
// sum lost or doubled a value.
func TestHistogramExactAndConsistent(t *testing.T) {
	logEngine(t)
	bounds := []float64{1, 2, 4, 8, 16, 32}
	h, err := NewHistogram(bounds)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	M := opsPerGoroutine()
	value := func(g, i int) float64 { return float64((g*7+i)%128) / 4 } // 0 to 31.75
	var stop atomic.Bool
	var snaps, inconsistent atomic.Int64
	var rw sync.WaitGroup
	rw.Add(1)
	go func() {
		defer rw.Done()
		var prev HistogramSnapshot
		for !stop.Load() {
			s := h.Snapshot()
			snaps.Add(1)
			ok := checkSnapshot(t, s)
			if s.Cumulative[len(s.Cumulative)-1] != s.Count {
				t.Errorf("count %d, last bucket %d: every value is within the last bound", s.Count, s.Cumulative[len(bounds)-1])
				ok = false
			}
			if prev.Cumulative != nil {
				if s.Count < prev.Count {
					t.Errorf("count went back from %d to %d", prev.Count, s.Count)
					ok = false
				}
				for i := range s.Cumulative {
					if s.Cumulative[i] < prev.Cumulative[i] {
						t.Errorf("bucket %d went back from %d to %d", i, prev.Cumulative[i], s.Cumulative[i])
						ok = false
					}
				}
			}
			if !ok {
				if inconsistent.Add(1) > 5 {
					return
				}
			}
			prev = s // no yield: keep reading while the observers run on the other CPUs
		}
	}()
	var G atomic.Int64
	hammer(t, func(g int) {
		G.Add(1)
		for i := 0; i < M; i++ {
			h.Observe(value(g, i))
			if i%8192 == 0 {
				runtime.Gosched()
			}
		}
	})
	stop.Store(true)
	rw.Wait()

	counts := make([]uint64, len(bounds)+1)
	var sum float64
	for g := 0; g < int(G.Load()); g++ {
		for i := 0; i < M; i++ {
			v := value(g, i)
			sum += v
			j := len(bounds)
			for k, u := range bounds {
				if v <= u {
					j = k
					break
				}
			}
			counts[j]++
		}
	}
	var acc uint64
	want := make([]uint64, len(bounds))
	for i := range bounds {
		acc += counts[i]
		want[i] = acc
	}
	s := h.Snapshot()
	if !slices.Equal(s.Cumulative, want) || s.Count != acc+counts[len(bounds)] || s.Sum != sum {
		t.Fatalf("snapshot %v count %d sum %v; want %v count %d sum %v", s.Cumulative, s.Count, s.Sum, want, acc, sum)
	}
	t.Logf("%d snapshots under load, %d inconsistent; %d observations", snaps.Load(), inconsistent.Load(), s.Count)
}

func TestHistogramCleanup(t *testing.T) {
	s, err := NewSlab(0, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHistogramIn(s, []float64{1})
	if err != nil {
		t.Fatal(err)
	}
	h.Observe(1)
	h.Close()
	h.Close()
	for i := 0; i < 50; i++ {
		h, _ := NewHistogramIn(s, DefaultBounds())
		h.Observe(0.1)
	}
	for i := 0; i < 20 && s.Stats().Objects != 0; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if st := s.Stats(); st.Objects != 0 {
		t.Fatalf("%d histograms not freed after GC", st.Objects)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestHistogramObserveAllocs(t *testing.T) {
	h, _ := NewHistogram(DefaultBounds())
	defer h.Close()
	if n := testing.AllocsPerRun(1000, func() { h.Observe(0.2) }); n != 0 {
		t.Errorf("Observe allocates %v times", n)
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	h, _ := NewHistogram(DefaultBounds())
	defer h.Close()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		v := 0.0
		for pb.Next() {
			h.Observe(v)
			if v += 0.01; v > 12 {
				v = 0
			}
		}
	})
}
