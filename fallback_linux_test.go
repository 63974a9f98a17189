//go:build linux

package rseq

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// TestDivertedSectionWaits: a section that finds a fallback operation
// running waits for it to end and retries on the engine, rather than
// joining the fallback (each joined operation fenced every CPU and
// diverted the next sections in turn: FreeList's steal from another CPU's
// cache once kept 8 goroutines on 2 µs operations). The test plays the
// fallback operation: it raises fbActive and holds every fallback lock, so
// an Add that joined the fallback would block until the locks are
// released; one that waits completes as soon as fbActive drops, with the
// locks still held. And the wait is bounded: with fbActive held up, it
// gives up after fallbackWait.
func TestDivertedSectionWaits(t *testing.T) {
	requireEngine(t, "sections for a fallback operation to divert")
	p := newTestPerCPU(t, 64, ByCPU)
	defer func(w int64) { fallbackWait = w }(fallbackWait)

	fallbackWait = 0 // the bound: fbActive stays up, the wait gives up
	atomic.AddInt32(&fbActive, 1)
	if waitFallbacks() {
		t.Fatal("waitFallbacks reported the fallback done while fbActive was raised")
	}

	fallbackWait = int64(time.Minute) // long enough for the test's steps
	for i := range fbLocks {
		fbLocks[i].Lock()
	}
	done := make(chan struct{})
	go func() {
		p.Add(Current, 0, 1)
		close(done)
	}()
	time.Sleep(20 * time.Millisecond) // let the Add find fbActive raised
	select {
	case <-done:
		t.Fatal("an Add committed while a fallback operation was running")
	default:
	}
	atomic.AddInt32(&fbActive, -1)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		for i := range fbLocks {
			fbLocks[i].Unlock()
		}
		<-done
		t.Fatal("a diverted Add joined the fallback (it waited for the fallback's lock) instead of retrying on the engine")
	}
	for i := range fbLocks {
		fbLocks[i].Unlock()
	}
	if got := sum(p, 0); got != 1 {
		t.Fatalf("sum %d, want 1", got)
	}
}
