package rseq

import (
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// CounterVec is a set of Counters keyed by the values of a fixed list of
// labels (as client_golang's CounterVec): With("/api/items", "200")
// returns the counter of that pair of values, creating it on first use.
//
// A lookup of an existing counter takes no lock, writes no shared memory
// and allocates nothing: it hashes the values and reads an immutable map
// published through an atomic pointer. Creating a counter takes a mutex;
// the new counter is found under that mutex until the map is republished,
// which happens once the lookups that missed it outnumber the counters
// (so republishing costs O(1) per miss, amortized).
//
// Make one with NewCounterVec. All methods are safe for concurrent use.
type CounterVec struct {
	labels []string
	seed   maphash.Seed
	read   atomic.Pointer[vecMap] // immutable: the map and its chains are never written once published

	mu      sync.Mutex
	dirty   vecMap      // every counter; chains are replaced, never appended to in place
	entries []*vecEntry // every counter in creation order: appended to, replaced (not edited) by Delete
	misses  int         // slow-path lookups since read was published
	slab    *Slab       // where counters are allocated; nil: DefaultSlab(ByCPU)
}

// vecMap maps the hash of a list of values to the entries with that hash.
type vecMap map[uint64][]*vecEntry

type vecEntry struct {
	values []string
	c      *Counter
}

// NewCounterVec returns an empty set of counters keyed by the values of
// the named labels. Names must be non-empty and distinct; there may be
// none (then With() names the one counter). The counters live in
// DefaultSlab(ByCPU).
func NewCounterVec(labels ...string) (*CounterVec, error) {
	for i, l := range labels {
		if l == "" {
			return nil, fmt.Errorf("rseq: NewCounterVec: label %d has an empty name", i)
		}
		if slices.Contains(labels[:i], l) {
			return nil, fmt.Errorf("rseq: NewCounterVec: label %q appears twice", l)
		}
	}
	v := &CounterVec{labels: slices.Clone(labels), seed: maphash.MakeSeed(), dirty: vecMap{}}
	v.read.Store(&vecMap{})
	return v, nil
}

// NewCounterVecIn is NewCounterVec with the counters allocated from s.
func NewCounterVecIn(s *Slab, labels ...string) (*CounterVec, error) {
	if s == nil {
		return nil, errors.New("rseq: NewCounterVecIn: nil slab")
	}
	v, err := NewCounterVec(labels...)
	if err != nil {
		return nil, err
	}
	v.slab = s
	return v, nil
}

// Labels returns the label names. The slice is shared: do not modify it.
func (v *CounterVec) Labels() []string { return v.labels }

// hash hashes a list of values; lists that differ hash differently with
// high probability (and equal hashes are checked value by value).
func (v *CounterVec) hash(values []string) uint64 {
	h := uint64(len(values))
	for _, s := range values {
		h = (h ^ maphash.String(v.seed, s)) * 0x9E3779B97F4A7C15
	}
	return h
}

func find(m vecMap, h uint64, values []string) *vecEntry {
	for _, e := range m[h] {
		if slices.Equal(e.values, values) {
			return e
		}
	}
	return nil
}

func (v *CounterVec) checkValues(method string, values []string) {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("rseq: CounterVec.%s: %d label values for %d labels %q", method, len(values), len(v.labels), v.labels))
	}
}

// With returns the counter of the given label values (one per label, in
// the order of the names), creating it if it does not exist. It panics if
// the number of values differs from the number of labels. Finding an
// existing counter allocates nothing; keep the result to skip even the
// lookup. The Counter is the vector's: do not Close it.
func (v *CounterVec) With(values ...string) *Counter {
	v.checkValues("With", values)
	h := v.hash(values)
	if e := find(*v.read.Load(), h, values); e != nil {
		return e.c
	}
	return v.slow(h, values)
}

// slow finds or creates the counter of values under the mutex.
func (v *CounterVec) slow(h uint64, values []string) *Counter {
	v.mu.Lock()
	defer v.mu.Unlock()
	e := find(v.dirty, h, values)
	if e == nil {
		e = v.add(h, values)
	}
	if v.misses++; v.misses >= len(v.entries) {
		v.publish()
	}
	return e.c
}

// add creates the counter of values. The caller holds v.mu.
func (v *CounterVec) add(h uint64, values []string) *vecEntry {
	var c *Counter
	if v.slab != nil {
		var err error
		if c, err = NewCounterIn(v.slab); err != nil {
			panic(fmt.Sprintf("rseq: CounterVec.With: %v", err))
		}
	} else {
		c = NewCounter()
	}
	e := &vecEntry{values: slices.Clone(values), c: c}
	chain := v.dirty[h]
	v.dirty[h] = append(chain[:len(chain):len(chain)], e) // a new array: read may share the old one
	v.entries = append(v.entries, e)
	return e
}

// publish makes every counter visible to lock-free lookups. The caller
// holds v.mu.
func (v *CounterVec) publish() {
	m := maps.Clone(v.dirty)
	v.read.Store(&m)
	v.misses = 0
}

// Delete removes the counter of the given label values from the set and
// reports whether it was there. A later With creates a new counter from
// zero. Whoever still holds the removed Counter may go on using it; its
// updates are simply no longer in the set. Delete republishes the lookup
// map, a copy of O(Len()) entries. It panics if the number of values
// differs from the number of labels.
func (v *CounterVec) Delete(values ...string) bool {
	v.checkValues("Delete", values)
	h := v.hash(values)
	v.mu.Lock()
	defer v.mu.Unlock()
	e := find(v.dirty, h, values)
	if e == nil {
		return false
	}
	chain := slices.DeleteFunc(slices.Clone(v.dirty[h]), func(x *vecEntry) bool { return x == e })
	if len(chain) == 0 {
		delete(v.dirty, h)
	} else {
		v.dirty[h] = chain
	}
	// A new slice, so that iterations in progress keep theirs.
	v.entries = slices.DeleteFunc(slices.Clone(v.entries), func(x *vecEntry) bool { return x == e })
	v.publish() // lookups must stop finding it now
	return true
}

// Len returns the number of counters in the set.
func (v *CounterVec) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.entries)
}

// All returns an iterator over the set's label values and counters, in
// the order they were created. It iterates over the counters that existed
// when it started; counters created meanwhile are not visited. The values
// slice is the vector's: do not modify it.
func (v *CounterVec) All() iter.Seq2[[]string, *Counter] {
	return func(yield func([]string, *Counter) bool) {
		v.mu.Lock()
		entries := v.entries // add writes past its end only; Delete replaces it
		v.mu.Unlock()
		for _, e := range entries {
			if !yield(e.values, e.c) {
				return
			}
		}
	}
}
