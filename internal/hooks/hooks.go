// Package hooks lets the module's own torture and benchmark commands
// (cmd/rseq stress and bench) reach two things of package rseq that
// programs have no use for and that are therefore not exported: the count
// of aborted critical sections, and views of a structure whose operations
// always take the lock-based fallback path, as a thread that cannot
// register would. Package rseq sets the functions when it initializes.
package hooks

// Aborts returns how many critical sections the kernel aborted in this
// process so far (each was retried). Zero where rseq is not used.
var Aborts func() uint64

// Fallback returns a view of x, a *rseq.PerCPU, *rseq.Locks or
// *rseq.FreeList, sharing its memory, whose operations always take the
// fallback path. Operations through the view and through x mix safely: the
// fallback diverts and fences the critical sections, at the fallback's
// cost. See package rseq's hooks.go for each view's details.
var Fallback func(x any) any
