package rseq_test

import (
	"fmt"
	"sync"
	"time"

	"github.com/gorseq/rseq"
)

// Request latencies from many goroutines: each Observe touches only the
// current CPU's words; a snapshot's count always equals the sum of its
// buckets.
func ExampleHistogram() {
	bounds, _ := rseq.ExponentialBounds(0.001, 10, 4) // 1ms, 10ms, 100ms, 1s
	latency, err := rseq.NewHistogram(bounds)
	if err != nil {
		panic(err)
	}
	defer latency.Close()

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				latency.ObserveDuration(time.Duration(i) * 5 * time.Millisecond) // 0 to 495ms
			}
		}()
	}
	wg.Wait()
	s := latency.Snapshot()
	for i, le := range s.Bounds {
		fmt.Printf("le %g: %d\n", le, s.Cumulative[i])
	}
	fmt.Printf("count %d, sum %.2fs\n", s.Count, s.Sum)
	// Output:
	// le 0.001: 4
	// le 0.01: 12
	// le 0.1: 84
	// le 1: 400
	// count 400, sum 99.00s
}

// Requests counted by path and status code: the counter of a pair of
// values is made on first use; finding it again allocates nothing.
func ExampleCounterVec() {
	requests, err := rseq.NewCounterVec("path", "code")
	if err != nil {
		panic(err)
	}
	requests.With("/items", "200").Add(3)
	requests.With("/items", "404").Inc()
	requests.With("/login", "200").Inc()
	requests.With("/items", "200").Inc()

	for values, c := range requests.All() {
		fmt.Println(values, c.Load())
	}
	// Output:
	// [/items 200] 4
	// [/items 404] 1
	// [/login 200] 1
}

// A gauge of requests in flight is a Counter: Inc on the way in, Dec on
// the way out.
func ExampleCounter_gauge() {
	inFlight := rseq.NewCounter()
	defer inFlight.Close()
	handle := func() {
		inFlight.Inc()
		defer inFlight.Dec()
		// ... serve the request ...
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() { defer wg.Done(); handle() }()
	}
	wg.Wait()
	fmt.Println(inFlight.Load())
	// Output: 0
}

// Per-CPU statistics with pointers inside (a map per CPU), updated under
// the CPU's lock and combined for a report.
func ExampleSharded() {
	type stats struct {
		requests int64
		bytes    map[string]int64 // by content type
	}
	s := rseq.NewSharded[stats]()
	record := func(contentType string, n int64) {
		s.Update(func(v *stats) { // short and non-blocking
			if v.bytes == nil {
				v.bytes = make(map[string]int64)
			}
			v.requests++
			v.bytes[contentType] += n
		})
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				record("text/html", 1000)
				record("image/png", 5000)
			}
		}()
	}
	wg.Wait()

	var requests int64
	bytes := map[string]int64{}
	for _, v := range s.All() { // each CPU's value under its lock
		requests += v.requests
		for k, n := range v.bytes {
			bytes[k] += n
		}
	}
	fmt.Println(requests, bytes["text/html"], bytes["image/png"])
	// Output: 1600 800000 4000000
}
