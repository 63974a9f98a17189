// Package bench compares github.com/gorseq/rseq's structures with what Go
// programs use today: sync/atomic, sync.RWMutex, sync.Pool, channels, and
// github.com/puzpuzpuz/xsync. It is a module of its own so that the library
// depends on nothing but golang.org/x/sys. See ../BENCHMARKS.md.
//
// Every benchmark runs b.RunParallel with SetParallelism(4): 4*GOMAXPROCS
// goroutines, so that they preempt and migrate as in a busy server. ns/op
// is wall time per operation across all of them.
package bench
