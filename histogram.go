package rseq

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"
)

// Histogram counts observations in buckets of fixed upper bounds, as a
// Prometheus histogram does, with per-CPU bucket counts and a per-CPU sum:
// Observe touches only the calling CPU's words (in a Slab block), with two
// restartable sequences and no atomic instruction where rseq is used.
//
// Bucket i counts the observations v with Bounds[i-1] < v <= Bounds[i];
// one more bucket counts those above the last bound (and NaN). Snapshot
// reads every CPU's counts and derives the total count from them, so a
// snapshot is always consistent: its count is the sum of its buckets and
// its cumulative buckets never decrease, even while Observes run.
//
// The sum: each CPU keeps the float64 sum of the values observed on it,
// updated by a compare-and-swap of the float's bits in that CPU's word (a
// restartable sequence, not an atomic instruction). Every value is added
// exactly once, with float64 rounding as in one shared float64 sum, over
// any range of values. A fixed-point integer sum would add exactly, but
// would need a unit and a range chosen in advance: an int64 of
// nanoseconds overflows after 292 years of summed latency, which a service
// doing a million 1 ms requests a second sums in 107 days. The sum is read
// after the buckets, so while Observes run a snapshot's Sum may include a
// few observations its Count does not, or miss a few it does; with no
// Observe running it matches exactly.
//
// Make one with NewHistogram or NewHistogramIn. Its memory returns to the
// slab when Close is called, or when the Histogram becomes unreachable.
// All methods but Close are safe for concurrent use.
type Histogram struct {
	ref    Ref
	p      *PerCPU
	off    uintptr   // bucket i's word: off + 8*i
	sumOff uintptr   // the float64 bits of the CPU's sum
	bounds []float64 // strictly increasing, finite
	clean  runtime.Cleanup
}

// HistogramSnapshot is a consistent reading of a Histogram, in the shape
// of a Prometheus histogram sample.
type HistogramSnapshot struct {
	// Bounds are the histogram's upper bounds, ascending, without +Inf.
	// They are shared with the Histogram: do not modify them.
	Bounds []float64
	// Cumulative[i] counts the observations <= Bounds[i]. It never
	// decreases with i, and is at most Count.
	Cumulative []uint64
	// Count counts every observation: the +Inf bucket.
	Count uint64
	// Sum is the sum of the observed values (see Histogram on how it
	// relates to Count while Observes run).
	Sum float64
}

// DefaultBounds returns the bounds of Prometheus' default buckets (its
// DefBuckets), in seconds, for request latencies: .005 to 10.
func DefaultBounds() []float64 {
	return []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// LinearBounds returns count bounds: start, start+width, start+2*width,
// and so on. It fails unless count >= 1, width > 0 and every bound is
// finite.
func LinearBounds(start, width float64, count int) ([]float64, error) {
	if count < 1 || !(width > 0) || math.IsInf(width, 0) || math.IsNaN(start) || math.IsInf(start, 0) {
		return nil, fmt.Errorf("rseq: LinearBounds(%v, %v, %d): want count >= 1 and finite start and width > 0", start, width, count)
	}
	b := make([]float64, count)
	for i := range b {
		b[i] = start + float64(i)*width
	}
	if err := checkBounds(b); err != nil {
		return nil, fmt.Errorf("rseq: LinearBounds(%v, %v, %d): %w", start, width, count, err)
	}
	return b, nil
}

// ExponentialBounds returns count bounds: start, start*factor,
// start*factor^2, and so on. It fails unless count >= 1, start > 0,
// factor > 1 and every bound is finite.
func ExponentialBounds(start, factor float64, count int) ([]float64, error) {
	if count < 1 || !(start > 0) || !(factor > 1) || math.IsInf(start, 0) || math.IsInf(factor, 0) {
		return nil, fmt.Errorf("rseq: ExponentialBounds(%v, %v, %d): want count >= 1, finite start > 0 and factor > 1", start, factor, count)
	}
	b := make([]float64, count)
	for i := range b {
		b[i] = start * math.Pow(factor, float64(i))
	}
	if err := checkBounds(b); err != nil {
		return nil, fmt.Errorf("rseq: ExponentialBounds(%v, %v, %d): %w", start, factor, count, err)
	}
	return b, nil
}

// checkBounds reports why bounds cannot be a histogram's upper bounds.
func checkBounds(bounds []float64) error {
	if len(bounds) == 0 {
		return errors.New("no bounds")
	}
	for i, b := range bounds {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return fmt.Errorf("bound %d is %v (bounds must be finite; the +Inf bucket is implicit)", i, b)
		}
		if i > 0 && !(bounds[i-1] < b) {
			return fmt.Errorf("bounds %d and %d (%v, %v) are not strictly increasing", i-1, i, bounds[i-1], b)
		}
	}
	return nil
}

// NewHistogram returns an empty histogram with the given upper bounds (at
// least one, finite, strictly increasing: see DefaultBounds, LinearBounds
// and ExponentialBounds) in DefaultSlab(ByCPU). It copies bounds.
func NewHistogram(bounds []float64) (*Histogram, error) {
	s, err := DefaultSlab(ByCPU)
	if err != nil {
		return nil, err
	}
	return NewHistogramIn(s, bounds)
}

// NewHistogramIn is NewHistogram with the per-CPU words in s:
// len(bounds)+2 words per block (the buckets and the sum), so at most
// s.Stride()/8 - 2 bounds.
func NewHistogramIn(s *Slab, bounds []float64) (*Histogram, error) {
	if err := checkBounds(bounds); err != nil {
		return nil, fmt.Errorf("rseq: NewHistogram: %w", err)
	}
	nb := len(bounds) + 1
	r, err := s.Alloc(nb + 1)
	if err != nil {
		return nil, fmt.Errorf("rseq: NewHistogram with %d bounds: %w", len(bounds), err)
	}
	h := &Histogram{
		ref:    r,
		p:      r.PerCPU(),
		off:    r.Off(),
		sumOff: r.Off() + uintptr(nb)*8,
		bounds: slices.Clone(bounds),
	}
	h.clean = runtime.AddCleanup(h, freeRef, r)
	return h, nil
}

// Bounds returns the histogram's upper bounds (without +Inf). The slice is
// shared: do not modify it.
func (h *Histogram) Bounds() []float64 { return h.bounds }

// bucket returns the index of the bucket v falls in: the first bound >= v,
// or len(bounds) (the +Inf bucket, also NaN's).
func (h *Histogram) bucket(v float64) int {
	b := h.bounds
	if len(b) <= 32 {
		// A short linear scan beats a binary search's mispredictions.
		for i, u := range b {
			if v <= u {
				return i
			}
		}
		return len(b)
	}
	if math.IsNaN(v) {
		return len(b)
	}
	i, _ := slices.BinarySearch(b, v) // the first index with b[i] >= v
	return i
}

// Observe adds v to the histogram: one increment of its bucket's count and
// one float64 addition to the sum, both in the calling CPU's words. A NaN
// is counted in the +Inf bucket and makes the sum NaN, as in Prometheus'
// client.
func (h *Histogram) Observe(v float64) {
	h.p.Add(Current, h.off+uintptr(h.bucket(v))*8, 1)
	// The sum: one section adds v to this CPU's float64 (rsFloatAdd; its
	// slow path compare-and-swaps the bits), so each value is added
	// exactly once, to some CPU's sum, which is all a sum needs.
	rsFloatAdd(&h.p.s, h.sumOff, v)
	runtime.KeepAlive(h) // the words must not be freed under the operation
}

// ObserveDuration observes d in seconds (d.Seconds()), the unit
// Prometheus uses for durations.
func (h *Histogram) ObserveDuration(d time.Duration) { h.Observe(d.Seconds()) }

// Snapshot returns the histogram's counts and sum. The count is derived
// from the bucket counts it read, never read separately, so it always
// equals their sum, and the cumulative counts never decrease. Each bucket
// count is read once per CPU while Observes may run: the snapshot counts
// every Observe that finished before Snapshot was called, and perhaps some
// that ran during it.
func (h *Histogram) Snapshot() HistogramSnapshot {
	nb := len(h.bounds) + 1
	counts := make([]uint64, nb)
	var sum float64
	for cpu := 0; cpu < h.p.Len(); cpu++ {
		for i := range counts {
			counts[i] += h.p.Load(cpu, h.off+uintptr(i)*8)
		}
	}
	for cpu := 0; cpu < h.p.Len(); cpu++ {
		sum += math.Float64frombits(h.p.Load(cpu, h.sumOff))
	}
	runtime.KeepAlive(h)
	var acc uint64
	for i := range counts {
		acc += counts[i]
		counts[i] = acc
	}
	return HistogramSnapshot{
		Bounds:     h.bounds,
		Cumulative: counts[: nb-1 : nb-1],
		Count:      acc,
		Sum:        sum,
	}
}

// Close returns the histogram's memory to its slab. The Histogram must not
// be used afterwards, and Close must not run concurrently with another
// method. Close is optional: an unreachable Histogram's memory is returned
// by the garbage collector. Closing twice does nothing.
func (h *Histogram) Close() {
	if h.p == nil {
		return
	}
	h.clean.Stop()
	freeRef(h.ref)
	h.ref, h.p = Ref{}, nil
}
