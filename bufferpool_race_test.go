//go:build race

package rseq

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// TestBufferPoolRacingPutReported: two goroutines that Put one buffer at
// the same time (a race in the caller, which the plain state word alone
// does not always catch) are reported by the race detector: a child
// process does it, and must exit with the detector's report naming Put.
func TestBufferPoolRacingPutReported(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBufferPoolRacingPutChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GORSEQ_TEST_RACING_PUT=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "WARNING: DATA RACE") || !strings.Contains(string(out), "(*BufferPool).Put") {
		t.Fatalf("child (%v) did not report a data race in BufferPool.Put:\n%s", err, out)
	}
}

// TestBufferPoolRacingPutChild is TestBufferPoolRacingPutReported's child.
func TestBufferPoolRacingPutChild(t *testing.T) {
	if os.Getenv("GORSEQ_TEST_RACING_PUT") == "" {
		t.Skip("the child of TestBufferPoolRacingPutReported")
	}
	p, err := NewBufferPool(64, 4)
	if err != nil {
		t.Fatal(err)
	}
	buf := p.Get()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { recover() }() // the second Put may also see "in the pool"
			p.Put(buf)
		}()
	}
	wg.Wait()
}
