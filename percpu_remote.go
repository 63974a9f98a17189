package rseq

// PopRemote is Pop on block cpu from any CPU: where Pop with an explicit
// index answers NotOnCPU unless the caller runs there, PopRemote always
// acts, through the fallback path (which stops every CPU's critical
// sections, diverting them to the fallback while it runs, and takes the
// block's lock). It is the slow path for taking work or memory cached on
// another CPU: microseconds, and it slows every other CPU's operations
// while it runs. It returns Failed if the array is empty.
func (p *PerCPU) PopRemote(cpu int, countOff, arrOff uintptr, capacity int) (uint64, Result) {
	if cpu < 0 {
		panic("rseq: PopRemote needs an explicit index")
	}
	p.checkIndex(cpu)
	p.checkArray(countOff, arrOff, capacity)
	v, id, st := fbPop(&p.s, cpu, countOff, arrOff, uintptr(capacity))
	if st == stCorrupt {
		corrupt("PopRemote", v, capacity, id)
	}
	return v, result(st)
}
