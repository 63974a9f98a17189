package kbench

import (
	"errors"
	"sort"
)

// Mode is a registration state of the measured threads.
type Mode struct {
	Name string
	Len  int // 0: not registered
}

// Stats summarizes repeated measurements.
type Stats struct{ Median, Min, Max float64 }

// Summarize returns the median and range of xs.
func Summarize(xs []float64) Stats {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return Stats{s[len(s)/2], s[0], s[len(s)-1]}
}

var errNotLinux = errors.New("kbench: Linux only")
