// Command example is an HTTP server instrumented with per-CPU metrics from
// github.com/gorseq/rseq, exposed to Prometheus at /metrics: requests by
// route and status code (rseq.CounterVec), requests in flight (a
// rseq.Counter used as a gauge), request latency (rseq.Histogram) and
// per-CPU response statistics (rseq.Sharded). Copy it as a starting point.
//
//	go run ./example -addr localhost:8080
//	curl localhost:8080/api/v1/items; curl localhost:8080/metrics
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/gorseq/rseq"
	"github.com/gorseq/rseq/prom"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's instruments. Each update touches only the
// current CPU's memory.
type metrics struct {
	requests *rseq.CounterVec // by route and code
	inFlight *rseq.Counter    // Inc on the way in, Dec on the way out
	latency  *rseq.Histogram  // seconds
	sent     *rseq.Sharded[sentStats]
}

// sentStats is one CPU's count of responses and bytes written.
type sentStats struct {
	responses int64
	bytes     int64
}

// newMetrics makes the instruments and registers their collectors.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	requests, err := rseq.NewCounterVec("route", "code")
	if err != nil {
		return nil, err
	}
	latency, err := rseq.NewHistogram(rseq.DefaultBounds())
	if err != nil {
		return nil, err
	}
	m := &metrics{requests: requests, inFlight: rseq.NewCounter(), latency: latency, sent: rseq.NewSharded[sentStats]()}
	for _, c := range []prometheus.Collector{
		prom.NewCounterVec(m.requests, prometheus.Opts{Name: "http_requests_total", Help: "HTTP requests by route and status code."}),
		prom.NewGauge(m.inFlight, prometheus.Opts{Name: "http_requests_in_flight", Help: "HTTP requests being served."}),
		prom.NewHistogram(m.latency, prometheus.Opts{Name: "http_request_duration_seconds", Help: "Time to serve an HTTP request."}),
		prom.NewShardedFunc(m.sent, prometheus.Opts{Name: "http_response_bytes_total", Help: "Bytes of HTTP response bodies written."},
			prometheus.CounterValue, func(s *sentStats) float64 { return float64(s.bytes) }),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// codes holds the decimal text of every status code, so that labelling a
// request allocates nothing.
var codes [600]string

func init() {
	for i := range codes {
		codes[i] = strconv.Itoa(i)
	}
}

func codeText(code int) string {
	if code >= 0 && code < len(codes) {
		return codes[code]
	}
	return strconv.Itoa(code)
}

// recorder remembers the status code and counts the bytes written.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// instrument wraps the handler of one route. The route (the pattern, not
// the URL) is the label, so the number of series stays bounded.
func (m *metrics) instrument(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		h(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		m.latency.ObserveDuration(time.Since(start))
		m.requests.With(route, codeText(rec.code)).Inc()
		m.sent.Update(func(s *sentStats) { // short, non-blocking
			s.responses++
			s.bytes += rec.bytes
		})
	}
}

// newServer returns the server's handler: the application's routes and
// /metrics, whose collectors are registered in reg.
func newServer(reg *prometheus.Registry) (http.Handler, error) {
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/items", m.instrument("/api/v1/items", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `["apple","pear"]`)
	}))
	mux.HandleFunc("GET /api/v1/items/{id}", m.instrument("/api/v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "1" {
			http.Error(w, "no such item", http.StatusNotFound)
			return
		}
		fmt.Fprintln(w, `"apple"`)
	}))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux, nil
}

func main() {
	addr := flag.String("addr", "localhost:8080", "listen address")
	flag.Parse()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h, err := newServer(reg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on http://%s (metrics at /metrics)", *addr)
	log.Fatal(http.ListenAndServe(*addr, h))
}
