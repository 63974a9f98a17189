package rseq

import (
	"sync"
	"testing"
)

// TestLocksOrderPlainData: a lock from Locks must order plain (non-atomic)
// accesses to the data it protects, visibly to the race detector too: under
// -race this test fails if Unlock's release is not seen as one.
func TestLocksOrderPlainData(t *testing.T) {
	l := NewLocks()
	defer l.Close()
	data := make([]int, l.Len()) // plain ints, one per lock
	const per = 2000
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				at := l.Lock()
				data[at]++
				l.Unlock(at)
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, v := range data {
		total += v
	}
	if total != 8*per {
		t.Fatalf("total %d, want %d", total, 8*per)
	}
}
