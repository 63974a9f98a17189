package rseq_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/gorseq/rseq"
)

// Per-CPU memory for a structure of one's own: a Slab object of two words
// per CPU, updated with PerCPU operations on the caller's CPU (Current) and
// summed by a reader.
func ExamplePerCPU() {
	slab, err := rseq.NewSlab(0, rseq.ByCPU)
	if err != nil {
		panic(err)
	}
	defer slab.Close()
	obj, err := slab.Alloc(2) // word 0: hits, word 1: bytes
	if err != nil {
		panic(err)
	}
	p, off := obj.PerCPU(), obj.Off()

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				p.Add(rseq.Current, off, 1)      // one critical section
				p.Add(rseq.Current, off+8, 1500) // another: the goroutine may have moved
			}
		}()
	}
	wg.Wait()
	var hits, bytes uint64
	for cpu := 0; cpu < p.Len(); cpu++ {
		hits += p.Load(cpu, off)
		bytes += p.Load(cpu, off+8)
	}
	fmt.Println(hits, bytes)
	// Output: 400 600000
}

// A lock per CPU: the holder works on its CPU's share of some data, and
// may unlock from anywhere (it may have moved).
func ExampleLocks() {
	locks := rseq.NewLocks()
	defer locks.Close()
	shares := make([]int, locks.Len())

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				cpu := locks.Lock() // this CPU's lock, taken in a critical section
				shares[cpu]++
				locks.Unlock(cpu)
			}
		}()
	}
	wg.Wait()
	total := 0
	for cpu := range shares {
		locks.LockAt(cpu) // any CPU's lock, from anywhere (slow: it fences)
		total += shares[cpu]
		locks.Unlock(cpu)
	}
	fmt.Println(total)
	// Output: 400
}

// A free list of handles (indexes into a table of one's own): Get and Put
// work on the caller's CPU's cache of handles; a shared stack behind the
// caches holds the rest.
func ExampleFreeList() {
	free, err := rseq.NewFreeList(64) // up to 64 handles cached per CPU
	if err != nil {
		panic(err)
	}
	defer free.Close()
	conns := make([]string, 100)
	for h := range conns {
		free.PutShared(uint32(h))
	}

	h, ok := free.Get()
	conns[h] = "in use"
	free.Put(h)
	fmt.Println(ok, free.Len())
	// Output: true 100
}

// Off-heap buffers of a fixed size: Get takes one of this CPU's cached
// buffers, Put gives it back (a buffer given back twice panics). With New
// set, Get never fails: past the pool's buffers it returns New's, which
// Put drops, as sync.Pool would.
func ExampleBufferPool() {
	pool, err := rseq.NewBufferPool(4096, 2)
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	pool.New = func() []byte { return make([]byte, 4096) }

	buf := pool.Get()
	n := copy(buf, "a request")
	fmt.Println(len(buf), string(buf[:n]), pool.Owns(buf))
	pool.Put(buf)

	a, b, c := pool.Get(), pool.Get(), pool.Get() // c is New's: the pool has 2
	fmt.Println(pool.Owns(a), pool.Owns(b), pool.Owns(c), pool.InUse())
	for _, buf := range [][]byte{a, b, c} {
		pool.Put(buf)
	}
	fmt.Println(pool.InUse())
	// Output:
	// 4096 a request true
	// true true false 2
	// 0
}

// A log of fixed-size records, one ring per CPU: producers Push from
// anywhere without contending, one consumer Drains.
func ExampleRing() {
	q, err := rseq.NewRing(16, 256, rseq.ByCPU) // 16-byte records, 256 per CPU
	if err != nil {
		panic(err)
	}
	defer q.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := make([]byte, 16)
			for i := 0; i < 10; i++ {
				binary.LittleEndian.PutUint64(rec, uint64(g))
				binary.LittleEndian.PutUint64(rec[8:], uint64(i))
				q.Push(rec) // false (and a counted drop) if this CPU's ring is full
			}
		}()
	}
	wg.Wait()
	var sum uint64
	n := q.Drain(func(cpu int, rec []byte) { sum += binary.LittleEndian.Uint64(rec[8:]) })
	fmt.Println(n, sum, q.Dropped())
	// Output: 40 180 0
}

// Acting on another CPU's per-CPU data: store the new rule, fence, then act.
// After FenceAll no critical section that began before it can still commit.
func ExampleFenceAll() {
	slab, _ := rseq.NewSlab(0, rseq.ByCPU)
	defer slab.Close()
	obj, _ := slab.Alloc(1)
	p, off := obj.PerCPU(), obj.Off()
	p.Add(rseq.Current, off, 5)

	rseq.FenceAll() // every section begun before has committed or will retry
	var total uint64
	for cpu := 0; cpu < p.Len(); cpu++ {
		total += p.Load(cpu, off)
	}
	fmt.Println(total)
	// Output: 5
}

// A counter shared by several processes through a memfd: each process
// opens the same file (pass the descriptor to children); every process
// must run restartable sequences, or the open fails with ErrNotSupported.
func ExampleOpenSharedCounterFile() {
	f, err := rseq.NewSharedMemfd("hits")
	if err != nil {
		fmt.Println("no memfd here")
		return
	}
	defer f.Close()
	c, err := rseq.OpenSharedCounterFile(f)
	if errors.Is(err, rseq.ErrNotSupported) {
		fmt.Println("this process cannot share per-CPU memory:", err)
		return
	} else if err != nil {
		panic(err)
	}
	defer c.Close()
	c.Add(3)
	c.Inc()
	fmt.Println(c.Load())
}

// A short critical region that should not be preempted in the middle: with
// a time slice extension requested, the kernel (Linux 7.0+, V2 mode) may
// let the thread finish its few microseconds first.
func ExampleSliceExtension() {
	var mu sync.Mutex
	shared := map[string]int{}
	granted, err := rseq.SliceExtension(func() {
		mu.Lock()
		shared["k"]++ // keep it short: no system calls, no blocking
		mu.Unlock()
	})
	if errors.Is(err, rseq.ErrNotSupported) {
		shared["k"]++ // not available here: do the work without it
	}
	_ = granted
	fmt.Println(shared["k"])
	// Output: 1
}

// What this kernel and process support, and why not where they do not.
func ExampleReadInfo() {
	in := rseq.ReadInfo()
	if !in.Usable {
		fmt.Println("fallback:", in.Err)
	}
}
