//go:build linux

package rseq

import (
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFallbackFenceFailure: a fallback operation whose fence fails panics
// with the reason and leaves fbActive as it found it, so a caller that
// recovers does not divert every later section (and engine-only shared
// operations, which wait for fbActive to drop, do not hang).
func TestFallbackFenceFailure(t *testing.T) {
	requireEngine(t, "the fallback's fence")
	p := newTestPerCPU(t, 64, ByCPU)
	before := atomic.LoadInt32(&fbActive)
	fenceFault = unix.ENOMEM
	func() {
		defer func() {
			fenceFault = nil
			r := recover()
			if r == nil || !strings.Contains(r.(string), "cannot allocate memory") {
				t.Errorf("fallback operation with a failing fence: recovered %v, want the fence's error", r)
			}
		}()
		fbAdd(&p.s, 0, 0, 1)
	}()
	if got := atomic.LoadInt32(&fbActive); got != before {
		t.Fatalf("fbActive %d after the failed fence, was %d", got, before)
	}
	if got := p.Load(0, 0); got != 0 {
		t.Fatalf("the failed operation wrote %d", got)
	}
	// Sections run again, undiverted: a strict (engine-only) add commits.
	if err := p.strictAdd(0, 1); err != nil {
		t.Fatal(err)
	}
	if got := sum(p, 0); got != 1 {
		t.Fatalf("sum %d after one add", got)
	}
}
