// The README's first program, as written there, built with the default
// CGO_ENABLED=1. TestHelloStaysStatic checks that importing rseq does not
// make it link the C library, and that it prints 8000.
package main

import (
	"fmt"
	"sync"

	"github.com/gorseq/rseq"
)

var hits rseq.Counter // the zero Counter is ready, like atomic.Int64

func main() {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				hits.Inc() // this CPU's word, no atomic instruction
			}
		}()
	}
	wg.Wait()
	fmt.Println(hits.Load(), rseq.ReadInfo().Usable) // 8000 true
}
