//go:build !race

package main

// optimisticReadBegin and optimisticReadEnd mark the memcpy pop's
// validated read (see bench_race.go); they do nothing outside race builds.
func optimisticReadBegin() {}

func optimisticReadEnd() {}
