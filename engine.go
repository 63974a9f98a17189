package rseq

// retryable decides what a wrapper does after a primitive returned st,
// which is neither committed nor failed: true means call the primitive
// again, false means use the fallback for this operation.
func retryable(st int) bool {
	switch st {
	case stAborted:
		aborts.Add(1)
		return true
	case stUnregistered:
		// A thread with no area yet registers and retries. A registered
		// thread lands here when its index is past the memory's length
		// (size memory by PossibleCPUs): the fallback handles that.
		if threadState() != idUnset {
			return false
		}
		return registerThread()
	}
	return false // stDiverted: a fallback operation is running
}
