package prom

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorseq/rseq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// load runs body(g) in 4*GOMAXPROCS goroutines (more than Ps, so that
// they are preempted and migrate) and waits for them.
func load(body func(g int)) int {
	n := 4 * runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(g)
		}()
	}
	wg.Wait()
	return n
}

func ops() int {
	if testing.Short() {
		return 20000
	}
	return 200000
}

// TestCounterAndGauge: after a concurrent load the exposition holds the
// exact counts, with the type, help and const labels given.
func TestCounterAndGauge(t *testing.T) {
	requests, inFlight := rseq.NewCounter(), rseq.NewCounter()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(
		NewCounter(requests, prometheus.Opts{Namespace: "app", Subsystem: "http", Name: "requests_total", Help: "Requests served.", ConstLabels: prometheus.Labels{"server": "a"}}),
		NewGauge(inFlight, prometheus.Opts{Name: "in_flight", Help: "Requests in flight."}),
	)
	M := ops()
	var peak atomic.Int64
	G := load(func(g int) {
		for i := 0; i < M; i++ {
			inFlight.Inc()
			requests.Inc()
			if i%1000 == 0 {
				peak.Store(max(peak.Load(), inFlight.Load()))
			}
			inFlight.Dec()
		}
		inFlight.Add(int64(g)) // left in flight: sum 0+1+...+(G-1)
	})
	want := fmt.Sprintf(`
# HELP app_http_requests_total Requests served.
# TYPE app_http_requests_total counter
app_http_requests_total{server="a"} %d
# HELP in_flight Requests in flight.
# TYPE in_flight gauge
in_flight %d
`, G*M, G*(G-1)/2)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d goroutines x %d; in flight seen up to %d", G, M, peak.Load())
}

func TestCounterVec(t *testing.T) {
	v, err := rseq.NewCounterVec("path", "code")
	if err != nil {
		t.Fatal(err)
	}
	c := NewCounterVec(v, prometheus.Opts{Name: "requests_total", Help: "Requests by path and code.", ConstLabels: prometheus.Labels{"job": "x"}})
	paths := []string{"/", "/api/v1/items"}
	codes := []string{"200", "404", "500"}
	M := ops()
	G := load(func(g int) {
		for i := 0; i < M; i++ {
			k := (g + i) % 6
			v.With(paths[k%2], codes[k/2]).Inc()
		}
	})
	counts := make([]int, 6)
	for g := 0; g < G; g++ {
		for i := 0; i < M; i++ {
			counts[(g+i)%6]++
		}
	}
	var b strings.Builder
	b.WriteString("# HELP requests_total Requests by path and code.\n# TYPE requests_total counter\n")
	for k, n := range counts {
		fmt.Fprintf(&b, "requests_total{code=%q,job=\"x\",path=%q} %d\n", codes[k/2], paths[k%2], n)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c); n != 6 {
		t.Fatalf("%d series, want 6", n)
	}
	v.Delete("/", "200")
	if n := testutil.CollectAndCount(c); n != 5 {
		t.Fatalf("%d series after Delete, want 5", n)
	}
	g, _ := rseq.NewCounterVec("route")
	g.With("/x").Add(3)
	g.With("/x").Dec()
	if err := testutil.CollectAndCompare(NewGaugeVec(g, prometheus.Opts{Name: "in_flight", Help: "h"}), strings.NewReader(`
# HELP in_flight h
# TYPE in_flight gauge
in_flight{route="/x"} 2
`)); err != nil {
		t.Fatal(err)
	}
}

func TestHistogram(t *testing.T) {
	h, err := rseq.NewHistogram([]float64{0.1, 0.5, 1})
	if err != nil {
		t.Fatal(err)
	}
	c := NewHistogram(h, prometheus.Opts{Name: "latency_seconds", Help: "Latency.", ConstLabels: prometheus.Labels{"op": "get"}})
	M := ops()
	vals := []float64{0.05, 0.1, 0.25, 0.75, 2} // multiples of 1/2^k: exact float sums
	G := load(func(g int) {
		for i := 0; i < M; i++ {
			h.Observe(vals[(g+i)%5])
		}
	})
	n := G * M / 5 // each value n times (G*M is a multiple of 5 here)
	if G*M%5 != 0 {
		t.Skipf("%d observations not a multiple of 5", G*M)
	}
	want := fmt.Sprintf(`
# HELP latency_seconds Latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{op="get",le="0.1"} %d
latency_seconds_bucket{op="get",le="0.5"} %d
latency_seconds_bucket{op="get",le="1"} %d
latency_seconds_bucket{op="get",le="+Inf"} %d
latency_seconds_sum{op="get"} %v
latency_seconds_count{op="get"} %d
`, 2*n, 3*n, 4*n, 5*n, h.Snapshot().Sum, 5*n)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if s, exact := h.Snapshot().Sum, float64(n)*(0.05+0.1+0.25+0.75+2); math.Abs(s-exact) > 1e-9*exact {
		t.Fatalf("sum %v, want %v", s, exact)
	}
}

// TestHistogramConsistentScrapes: scrapes taken while goroutines observe
// values all within the last bound always expose a +Inf bucket (the
// count) equal to the last finite bucket, and buckets that never decrease.
func TestHistogramConsistentScrapes(t *testing.T) {
	h, _ := rseq.NewHistogram(rseq.DefaultBounds())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewHistogram(h, prometheus.Opts{Name: "latency_seconds", Help: "Latency."}))
	var stop atomic.Bool
	var scrapes atomic.Int64
	var bad atomic.Int64
	var rw sync.WaitGroup
	rw.Add(1)
	go func() {
		defer rw.Done()
		for !stop.Load() {
			mfs, err := reg.Gather()
			if err != nil {
				t.Error(err)
				return
			}
			hm := mfs[0].GetMetric()[0].GetHistogram()
			bs := hm.GetBucket()
			for i := 1; i < len(bs); i++ {
				if bs[i].GetCumulativeCount() < bs[i-1].GetCumulativeCount() {
					t.Errorf("buckets decrease: %v", bs)
					bad.Add(1)
				}
			}
			if last := bs[len(bs)-1].GetCumulativeCount(); last != hm.GetSampleCount() {
				t.Errorf("count %d, last bucket (le %v) %d: every value is within it", hm.GetSampleCount(), bs[len(bs)-1].GetUpperBound(), last)
				bad.Add(1)
			}
			if bad.Load() > 5 {
				return
			}
			scrapes.Add(1)
		}
	}()
	M := ops()
	G := load(func(g int) {
		for i := 0; i < M; i++ {
			h.Observe(float64((g+i)%1000) / 100) // 0 to 9.99 s
		}
	})
	stop.Store(true)
	rw.Wait()
	mfs, _ := reg.Gather()
	if got := mfs[0].GetMetric()[0].GetHistogram().GetSampleCount(); got != uint64(G*M) {
		t.Fatalf("count %d, want %d", got, G*M)
	}
	t.Logf("%d scrapes during %d observations", scrapes.Load(), G*M)
}

func TestShardedFunc(t *testing.T) {
	type stats struct{ requests, bytes int64 }
	s := rseq.NewSharded[stats]()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(
		NewShardedFunc(s, prometheus.Opts{Name: "requests_total", Help: "Requests."}, prometheus.CounterValue, func(v *stats) float64 { return float64(v.requests) }),
		NewShardedFunc(s, prometheus.Opts{Name: "response_bytes_total", Help: "Bytes sent.", Unit: "bytes"}, prometheus.CounterValue, func(v *stats) float64 { return float64(v.bytes) }),
	)
	M := ops()
	var stop atomic.Bool
	var sw sync.WaitGroup
	sw.Add(1)
	go func() { // scrapes during the load take every CPU's lock
		defer sw.Done()
		for !stop.Load() {
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
			}
		}
	}()
	G := load(func(g int) {
		for i := 0; i < M; i++ {
			s.Update(func(v *stats) { v.requests++; v.bytes += int64(i % 100) })
		}
	})
	stop.Store(true)
	sw.Wait()
	var bytes int64
	for i := 0; i < M; i++ {
		bytes += int64(i % 100)
	}
	want := fmt.Sprintf(`
# HELP requests_total Requests.
# TYPE requests_total counter
requests_total %d
# HELP response_bytes_total Bytes sent.
# TYPE response_bytes_total counter
response_bytes_total %d
`, G*M, int64(G)*bytes)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// TestRegistration: bad names and duplicates fail at Register, as for
// client_golang's own metrics; a collector unregisters.
func TestRegistration(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	c := rseq.NewCounter()
	if err := reg.Register(NewCounter(c, prometheus.Opts{Name: "", Help: "h"})); err == nil {
		t.Error("empty name registered")
	}
	v, _ := rseq.NewCounterVec("a b")
	if err := reg.Register(NewCounterVec(v, prometheus.Opts{Name: "x_total", Help: "h", ConstLabels: prometheus.Labels{"__bad": "1"}})); err == nil {
		t.Error("reserved const label registered")
	}
	ok := NewCounter(c, prometheus.Opts{Name: "ok_total", Help: "h"})
	if err := reg.Register(ok); err != nil {
		t.Fatal(err)
	}
	var are prometheus.AlreadyRegisteredError
	if err := reg.Register(NewCounter(c, prometheus.Opts{Name: "ok_total", Help: "h"})); !errors.As(err, &are) {
		t.Errorf("duplicate: %v, want AlreadyRegisteredError", err)
	}
	if !reg.Unregister(ok) {
		t.Error("Unregister failed")
	}
	var m dto.Metric
	if err := constMetric(prometheus.NewDesc("x", "h", []string{"l"}, nil), prometheus.GaugeValue, 1).Write(&m); err == nil {
		t.Error("a sample missing its label value was written")
	}
}
