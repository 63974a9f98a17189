//go:build linux && (amd64 || arm64) && !race

package rseq

import "testing"

// TestDelayRWMutex: the hammer of TestRWMutexHammer with every section
// slowed before its commit, so that revocations land between a reader's
// add and its check of the mode: readers back out (the late-adder path)
// and the invariants still hold.
func TestDelayRWMutex(t *testing.T) {
	needDelay(t, 5000)
	d := rwHammer(t)
	if d.revocations < 2 {
		t.Fatalf("the bias did not flip: %v", d)
	}
	if d.backOuts == 0 {
		t.Fatalf("no reader backed out of a revoked bias: %v", d)
	}
}
