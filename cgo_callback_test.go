//go:build cgo && rseqcgo && linux

package rseq_test

import (
	"testing"

	"github.com/gorseq/rseq"
	"github.com/gorseq/rseq/internal/cgotest"
)

// TestCgoCallbacks: C threads call into Go and count, round after round, so
// the runtime's extra Ms move from exited C threads to new ones. Counts
// stay exact, and where this library registers its own areas it registers
// none from inside a callback (an extra M would carry the key to the next C
// thread, which would then run sections on the dead thread's area): the
// areas handed out do not grow with the number of C threads.
func TestCgoCallbacks(t *testing.T) {
	c := rseq.NewCounter()
	defer c.Close()
	before := rseq.LiveAreas()
	// Where this library registers its own areas, every operation of a
	// callback takes the fallback, which fences every CPU: -short does a
	// quarter of the work.
	rounds, threads, n := 40, 4, 500
	if testing.Short() {
		rounds = 10
	}
	for range rounds {
		if err := cgotest.Spawn(c, threads, n); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := c.Load(), int64(rounds*threads*n); got != want {
		t.Fatalf("count %d, want %d", got, want)
	}
	grew := rseq.LiveAreas() - before
	t.Logf("%s; own areas via g.m: %v; areas handed out during %d C threads: %d", rseq.ReadInfo().Owner, rseq.OwnAreasViaM(), rounds*threads, grew)
	if rseq.OwnAreasViaM() && grew > 0 {
		t.Fatalf("%d areas registered from cgo callbacks on %d C threads", grew, rounds*threads)
	}
}
