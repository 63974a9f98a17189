//go:build !race

package rseq

const raceEnabled = false
