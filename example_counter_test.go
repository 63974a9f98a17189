package rseq_test

import (
	"fmt"
	"sync"

	"github.com/gorseq/rseq"
)

// The zero Counter is ready to use, like atomic.Int64: as a field or a
// package variable, with no constructor.
func ExampleCounter_zeroValue() {
	type server struct {
		hits rseq.Counter
	}
	var s server
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				s.hits.Inc()
			}
		}()
	}
	wg.Wait()
	fmt.Println(s.hits.Load())
	// Output: 1000
}
