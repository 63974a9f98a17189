//go:build race

package main

import "runtime"

// optimisticReadBegin and optimisticReadEnd bracket the memcpy pop's read
// of a record that a concurrent push on the same block may be writing. The
// read is validated afterwards (the pop commits only if no push or pop
// committed on that block since), so a torn read is never used; but in
// race builds every operation takes the fallback, whose copy is a plain
// write to Go memory, and the detector would report the read. A seqlock's
// read side cannot be expressed to it otherwise.
func optimisticReadBegin() { runtime.RaceDisable() }

func optimisticReadEnd() { runtime.RaceEnable() }
