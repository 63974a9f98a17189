// The README's first program: a Counter, built with the default
// CGO_ENABLED=1. TestHelloStaysStatic checks that importing rseq does not
// make it link the C library.
package main

import (
	"fmt"

	"github.com/gorseq/rseq"
)

func main() {
	hits := rseq.NewCounter()
	hits.Inc()
	fmt.Println(hits.Load(), rseq.ReadInfo().Usable)
}
