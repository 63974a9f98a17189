package rseq_test

import (
	"expvar"
	"fmt"
	"sync"

	"github.com/gorseq/rseq"
)

// A request counter updated from many goroutines: each Inc touches only
// the current CPU's word.
func ExampleCounter() {
	requests := rseq.NewCounter()
	defer requests.Close()
	expvar.Publish("requests", requests) // a Counter is an expvar.Var

	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				requests.Inc()
			}
		}()
	}
	wg.Wait()
	fmt.Println(requests.Load())
	fmt.Println(requests.Drain(), requests.Load())
	// Output:
	// 8000
	// 8000 0
}

// A read-mostly map guarded by an RWMutex, used exactly like a
// sync.RWMutex: readers on different CPUs do not contend.
func ExampleRWMutex() {
	var (
		mu     rseq.RWMutex // the zero value is ready
		config = map[string]string{"mode": "fast"}
	)
	lookup := func(k string) string {
		mu.RLock()
		defer mu.RUnlock()
		return config[k]
	}

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				_ = lookup("mode")
			}
		}()
	}
	mu.Lock()
	config["mode"] = "safe"
	mu.Unlock()
	wg.Wait()
	fmt.Println(lookup("mode"))
	// Output: safe
}
