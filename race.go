//go:build race

package rseq

// raceEnabled: the race detector cannot see accesses made by assembly, so a
// race build uses the fallback everywhere.
const raceEnabled = true
