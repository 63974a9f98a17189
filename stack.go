package rseq

// A stack (abi.go) is a per-CPU LIFO of words, FreeList's cache of
// handles: rsStackPop and rsStackPush work on the caller's block in one
// section each; what they cannot do goes on here.

// newStack describes a stack of capacity words in the object r names: the
// count in its first word, the array after it.
func newStack(r Ref, capacity int) stack {
	return stack{s: &r.PerCPU().s, countOff: r.Off(), arrOff: r.Off() + 8, capacity: uintptr(capacity)}
}

// stackPopSlow is rsStackPop's slow path: aborted sections are retried,
// threads register, memory the engine does not run on (or a running
// fallback operation) takes the fallback, and a corrupt count panics.
func stackPopSlow(st *stack) (uint64, bool) { return stackPopRetry(st) }

// stackPopAborted is stackPopSlow for a section the kernel aborted.
func stackPopAborted(st *stack) (uint64, bool) {
	aborts.Add(1)
	return stackPopRetry(st)
}

func stackPopRetry(st *stack) (uint64, bool) {
	s, c := st.s, int(st.capacity)
	checkOpen(s)
	if s.lim != 0 {
		for {
			v, id, r := rsPop(s, Current, st.countOff, st.arrOff, st.capacity)
			switch r {
			case stCommitted:
				return v, true
			case stFailed:
				return stackEmpty(st)
			case stCorrupt:
				corrupt("Pop", v, c, id)
			}
			if !retryable(r) {
				break
			}
		}
	}
	v, id, r := fbPop(s, Current, st.countOff, st.arrOff, st.capacity)
	switch r {
	case stCorrupt:
		corrupt("Pop", v, c, id)
	case stFailed:
		return stackEmpty(st)
	}
	return v, true
}

// stackEmpty finishes a pop from an empty cache: through the stack's
// empty hook if it has one (rsStackPop jumps here then), else empty.
func stackEmpty(st *stack) (uint64, bool) {
	if st.empty != nil {
		return st.empty()
	}
	return 0, false
}

// stackFull finishes a push onto a full cache: through the stack's full
// hook if it has one (rsStackPush jumps here then), else full.
func stackFull(st *stack, v uint64) bool {
	if st.full != nil {
		st.full(v)
		return true
	}
	return false
}

// stackPushSlow is rsStackPush's slow path, as stackPopSlow.
func stackPushSlow(st *stack, v uint64) bool { return stackPushRetry(st, v) }

// stackPushAborted is stackPushSlow for a section the kernel aborted.
func stackPushAborted(st *stack, v uint64) bool {
	aborts.Add(1)
	return stackPushRetry(st, v)
}

func stackPushRetry(st *stack, v uint64) bool {
	s, c := st.s, int(st.capacity)
	checkOpen(s)
	if s.lim != 0 {
		for {
			n, id, r := rsPush(s, Current, st.countOff, st.arrOff, st.capacity, v)
			switch r {
			case stCommitted:
				return true
			case stFailed:
				return stackFull(st, v)
			case stCorrupt:
				corrupt("Push", n, c, id)
			}
			if !retryable(r) {
				break
			}
		}
	}
	n, id, r := fbPush(s, Current, st.countOff, st.arrOff, st.capacity, v)
	switch r {
	case stCorrupt:
		corrupt("Push", n, c, id)
	case stFailed:
		return stackFull(st, v)
	}
	return true
}
