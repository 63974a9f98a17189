package main

import "github.com/gorseq/rseq/internal/hooks"

// fallbackOf returns a view of x (a *rseq.PerCPU, *rseq.Locks or
// *rseq.FreeList) whose operations always take the fallback path, through
// the package's internal hooks.
func fallbackOf[T any](x T) T { return hooks.Fallback(x).(T) }
