package prom_test

import (
	"fmt"
	"os"
	"sync"

	"github.com/gorseq/rseq"
	"github.com/gorseq/rseq/prom"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Per-CPU metrics registered like any client_golang metric; the program
// updates the rseq values, a scrape reads them.
func Example() {
	reg := prometheus.NewRegistry()

	requests, _ := rseq.NewCounterVec("code")
	latency, _ := rseq.NewHistogram([]float64{0.1, 1})
	reg.MustRegister(
		prom.NewCounterVec(requests, prometheus.Opts{Name: "requests_total", Help: "Requests by status code."}),
		prom.NewHistogram(latency, prometheus.Opts{Name: "latency_seconds", Help: "Request latency.", ConstLabels: prometheus.Labels{"server": "a"}}),
	)

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				requests.With("200").Inc()
				latency.Observe(0.5)
			}
		}()
	}
	wg.Wait()
	requests.With("500").Inc()

	mfs, _ := reg.Gather()
	enc := expfmt.NewEncoder(os.Stdout, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// # HELP latency_seconds Request latency.
	// # TYPE latency_seconds histogram
	// latency_seconds_bucket{server="a",le="0.1"} 0
	// latency_seconds_bucket{server="a",le="1"} 400
	// latency_seconds_bucket{server="a",le="+Inf"} 400
	// latency_seconds_sum{server="a"} 200
	// latency_seconds_count{server="a"} 400
	// # HELP requests_total Requests by status code.
	// # TYPE requests_total counter
	// requests_total{code="200"} 400
	// requests_total{code="500"} 1
}

// A Sharded value exposed through a function of each CPU's value, summed
// at scrape time.
func ExampleNewShardedFunc() {
	type conn struct{ opened, closed int64 }
	conns := rseq.NewSharded[conn]()
	open := prom.NewShardedFunc(conns, prometheus.Opts{Name: "connections_open", Help: "Open connections."},
		prometheus.GaugeValue, func(c *conn) float64 { return float64(c.opened - c.closed) })
	reg := prometheus.NewRegistry()
	reg.MustRegister(open)

	for i := 0; i < 10; i++ {
		conns.Update(func(c *conn) { c.opened++ })
	}
	conns.Update(func(c *conn) { c.closed++ })

	mfs, _ := reg.Gather()
	fmt.Println(mfs[0].GetName(), mfs[0].GetMetric()[0].GetGauge().GetValue())
	// Output: connections_open 9
}
