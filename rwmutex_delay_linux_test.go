//go:build linux && (amd64 || arm64) && !race

package rseq

import "testing"

// TestDelayRWMutex: the hammer of TestRWMutexHammer with every section
// slowed before its commit, so that revocations land between a reader's
// add and its check of the mode: it goes on until readers have backed out
// of a revoked bias (the late-adder path), and the invariants hold.
func TestDelayRWMutex(t *testing.T) {
	needDelay(t, 5000)
	d := rwHammer(t, func(d rwCounts) bool { return d.backOuts > 0 })
	if d.revocations < 2 {
		t.Fatalf("the bias did not flip: %v", d)
	}
	if d.backOuts == 0 {
		t.Fatalf("no reader backed out of a revoked bias in 10s: %v", d)
	}
}
