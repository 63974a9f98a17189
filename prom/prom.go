// Package prom exposes the per-CPU metrics of github.com/gorseq/rseq to
// Prometheus through its Go client (github.com/prometheus/client_golang):
// each constructor returns a prometheus.Collector that reads an rseq
// Counter, CounterVec, Histogram or Sharded value at scrape time, with the
// standard metric types, names, help and const labels. Register it like
// any client_golang metric:
//
//	requests := rseq.NewCounter()
//	prometheus.MustRegister(prom.NewCounter(requests, prometheus.Opts{
//		Name: "http_requests_total", Help: "Requests served.",
//	}))
//	requests.Inc() // per-CPU: no shared atomic
//
// The program updates the rseq values directly; this package only reads
// them. It is a module of its own so that github.com/gorseq/rseq keeps
// depending on nothing but golang.org/x/sys.
//
// Names, help and labels are checked by client_golang when the collector
// is registered (Register returns the error), as for its own metrics.
package prom

import (
	"github.com/gorseq/rseq"
	"github.com/prometheus/client_golang/prometheus"
)

// newDesc describes a metric of opts with the given variable labels.
func newDesc(opts prometheus.Opts, labels []string) *prometheus.Desc {
	return prometheus.V2.NewDesc(
		prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name),
		opts.Help,
		prometheus.UnconstrainedLabels(labels),
		opts.ConstLabels,
		prometheus.WithUnit(opts.Unit),
	)
}

// constMetric is a sample of desc, or an invalid metric that carries the
// error (a scrape reports it instead of failing on a panic).
func constMetric(desc *prometheus.Desc, typ prometheus.ValueType, v float64, labelValues ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(desc, typ, v, labelValues...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}

// valueCollector exposes one value, read at scrape time.
type valueCollector struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func() float64
}

func (c *valueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *valueCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- constMetric(c.desc, c.typ, c.value())
}

// NewCounter returns a collector exposing c as a Prometheus counter: its
// value (c.Load()) at each scrape. A Prometheus counter must never go
// down: only Inc c, or Add non-negative deltas (Drain and Reset restart
// it, which Prometheus reads as a counter reset).
func NewCounter(c *rseq.Counter, opts prometheus.Opts) prometheus.Collector {
	return &valueCollector{desc: newDesc(opts, nil), typ: prometheus.CounterValue, value: func() float64 { return float64(c.Load()) }}
}

// NewGauge returns a collector exposing c as a Prometheus gauge: a value
// that goes up and down (Inc and Dec, or Add with either sign), such as
// requests in flight. There is no Set (see rseq.Counter).
func NewGauge(c *rseq.Counter, opts prometheus.Opts) prometheus.Collector {
	return &valueCollector{desc: newDesc(opts, nil), typ: prometheus.GaugeValue, value: func() float64 { return float64(c.Load()) }}
}

// vecCollector exposes every counter of a CounterVec.
type vecCollector struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
	v    *rseq.CounterVec
}

func (c *vecCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *vecCollector) Collect(ch chan<- prometheus.Metric) {
	for values, counter := range c.v.All() {
		ch <- constMetric(c.desc, c.typ, float64(counter.Load()), values...)
	}
}

// NewCounterVec returns a collector exposing every counter of v as a
// Prometheus counter, labelled with v's label names and each counter's
// values: a time series per set of values With has created (and not
// Deleted).
func NewCounterVec(v *rseq.CounterVec, opts prometheus.Opts) prometheus.Collector {
	return &vecCollector{desc: newDesc(opts, v.Labels()), typ: prometheus.CounterValue, v: v}
}

// NewGaugeVec is NewCounterVec for counters used as gauges (Inc and Dec),
// such as requests in flight by route.
func NewGaugeVec(v *rseq.CounterVec, opts prometheus.Opts) prometheus.Collector {
	return &vecCollector{desc: newDesc(opts, v.Labels()), typ: prometheus.GaugeValue, v: v}
}

// histogramCollector exposes a Histogram.
type histogramCollector struct {
	desc *prometheus.Desc
	h    *rseq.Histogram
}

func (c *histogramCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *histogramCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.Snapshot()
	buckets := make(map[float64]uint64, len(s.Bounds))
	for i, le := range s.Bounds {
		buckets[le] = s.Cumulative[i]
	}
	m, err := prometheus.NewConstHistogram(c.desc, s.Count, s.Sum, buckets)
	if err != nil {
		m = prometheus.NewInvalidMetric(c.desc, err)
	}
	ch <- m
}

// NewHistogram returns a collector exposing h as a Prometheus histogram
// (classic buckets: h's bounds and +Inf). Each scrape reads one
// h.Snapshot(), so the exposed count always equals the +Inf bucket and the
// buckets never decrease from one bound to the next, however many Observes
// run meanwhile.
func NewHistogram(h *rseq.Histogram, opts prometheus.Opts) prometheus.Collector {
	return &histogramCollector{desc: newDesc(opts, nil), h: h}
}

// NewShardedFunc returns a collector exposing the sum over s's values of
// value(v), as a metric of type typ (prometheus.CounterValue or
// GaugeValue). value runs on each CPU's value under that CPU's lock (see
// rseq.Sharded.All): it must be short, must not block, and must not call
// s.Update. Register one collector per metric derived from s; each scrape
// visits every CPU's value once per collector. For other ways of combining
// the values (a maximum, labelled series), write a prometheus.Collector
// that ranges over s.All().
func NewShardedFunc[T any](s *rseq.Sharded[T], opts prometheus.Opts, typ prometheus.ValueType, value func(*T) float64) prometheus.Collector {
	return &valueCollector{desc: newDesc(opts, nil), typ: typ, value: func() float64 {
		var sum float64
		for _, v := range s.All() {
			sum += value(v)
		}
		return sum
	}}
}
