//go:build linux

package libc

import (
	"fmt"
	"unsafe"
)

// image is an ELF object mapped into this process at base (the dynamic
// loader), seen through its program headers. Every read goes through
// at, which admits only addresses inside the object's PT_LOAD segments:
// memory the loader mapped, so a malformed table makes the lookup fail,
// never fault.
type image struct {
	base            uintptr
	segs            []span // PT_LOAD segments, [lo, hi)
	symtab, strtab  uintptr
	strsz           uintptr
	gnuHash, sysvHs uintptr
}

type span struct{ lo, hi uintptr }

const (
	ptLoad    = 1
	ptDynamic = 2

	dtNull    = 0
	dtHash    = 4
	dtStrtab  = 5
	dtSymtab  = 6
	dtStrsz   = 10
	dtSyment  = 11
	dtGnuHash = 0x6ffffef5

	symSize  = 24 // Elf64_Sym
	firstHdr = 4096
)

// at returns a pointer to n bytes at addr if they lie inside one mapped
// segment.
func (m *image) at(addr, n uintptr) (unsafe.Pointer, bool) {
	for _, s := range m.segs {
		if addr >= s.lo && addr <= s.hi && n <= s.hi-addr {
			return ptrAt(addr), true
		}
	}
	return nil, false
}

func (m *image) u32(addr uintptr) (uint32, bool) {
	p, ok := m.at(addr, 4)
	if !ok || addr%4 != 0 {
		return 0, false
	}
	return *(*uint32)(p), true
}

func (m *image) u64(addr uintptr) (uint64, bool) {
	p, ok := m.at(addr, 8)
	if !ok || addr%8 != 0 {
		return 0, false
	}
	return *(*uint64)(p), true
}

// ptr turns a dynamic-section address into one in this process: glibc
// relocates its objects' dynamic entries in place on x86-64 and arm64, but
// an entry left as a link-time value is an offset from base.
func (m *image) ptr(v uint64) uintptr {
	if uintptr(v) < m.base {
		return m.base + uintptr(v)
	}
	return uintptr(v)
}

// openImage reads the ELF header and program headers at base (the first
// page of the object, which holds them in every loader's layout) and the
// dynamic section they point to.
func openImage(base uintptr) (*image, error) {
	hdr := unsafe.Slice((*byte)(ptrAt(base)), 64)
	if string(hdr[:4]) != "\x7fELF" || hdr[4] != 2 || hdr[5] != 1 {
		return nil, errNotELF
	}
	le16 := func(b []byte) uintptr { return uintptr(b[0]) | uintptr(b[1])<<8 }
	phoff := uintptr(*(*uint64)(ptrAt(base + 32)))
	phentsize, phnum := le16(hdr[54:]), le16(hdr[56:])
	if phentsize != 56 || phnum == 0 || phoff+phnum*phentsize > firstHdr {
		return nil, fmt.Errorf("libc: program headers at %d (%d x %d bytes) not in the first page", phoff, phnum, phentsize)
	}
	m := &image{base: base}
	var dyn, dynsz uintptr
	for i := range phnum {
		ph := base + phoff + i*phentsize
		typ := *(*uint32)(ptrAt(ph))
		vaddr := uintptr(*(*uint64)(ptrAt(ph + 16)))
		memsz := uintptr(*(*uint64)(ptrAt(ph + 40)))
		switch typ {
		case ptLoad:
			m.segs = append(m.segs, span{base + vaddr, base + vaddr + memsz})
		case ptDynamic:
			dyn, dynsz = base+vaddr, memsz
		}
	}
	if dyn == 0 {
		return nil, fmt.Errorf("libc: the program interpreter has no dynamic section")
	}
	syment := uint64(symSize)
	for d := dyn; d+16 <= dyn+dynsz; d += 16 {
		tag, ok1 := m.u64(d)
		val, ok2 := m.u64(d + 8)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("libc: dynamic section at %#x not mapped", d)
		}
		switch tag {
		case dtNull:
			d = dyn + dynsz // done
		case dtHash:
			m.sysvHs = m.ptr(val)
		case dtGnuHash:
			m.gnuHash = m.ptr(val)
		case dtStrtab:
			m.strtab = m.ptr(val)
		case dtSymtab:
			m.symtab = m.ptr(val)
		case dtStrsz:
			m.strsz = uintptr(val)
		case dtSyment:
			syment = val
		}
	}
	if m.symtab == 0 || m.strtab == 0 || syment != symSize || (m.gnuHash == 0 && m.sysvHs == 0) {
		return nil, fmt.Errorf("libc: the program interpreter's dynamic symbol table is incomplete")
	}
	return m, nil
}

// lookup returns the address of the defined data symbol name, whose size
// must be size bytes, through the GNU hash table (or the SysV one).
func (m *image) lookup(name string, size uintptr) (uintptr, bool) {
	match := func(i uint32) (uintptr, bool) { return m.symbol(i, name, size) }
	if m.gnuHash != 0 {
		return m.lookupGNU(name, match)
	}
	return m.lookupSysV(name, match)
}

// symbol returns the address of symbol i if it is name, defined, of size
// bytes, and mapped.
func (m *image) symbol(i uint32, name string, size uintptr) (uintptr, bool) {
	p, ok := m.at(m.symtab+uintptr(i)*symSize, symSize)
	if !ok {
		return 0, false
	}
	b := unsafe.Slice((*byte)(p), symSize)
	nameOff := uintptr(b[0]) | uintptr(b[1])<<8 | uintptr(b[2])<<16 | uintptr(b[3])<<24
	shndx := uint16(b[6]) | uint16(b[7])<<8
	value := uintptr(*(*uint64)(unsafe.Pointer(&b[8])))
	symSz := uintptr(*(*uint64)(unsafe.Pointer(&b[16])))
	if shndx == 0 || symSz != size || nameOff+uintptr(len(name)) >= m.strsz {
		return 0, false
	}
	str, ok := m.at(m.strtab+nameOff, uintptr(len(name))+1)
	if !ok || unsafe.String((*byte)(str), len(name)+1) != name+"\x00" {
		return 0, false
	}
	addr := m.base + value
	if _, ok := m.at(addr, size); !ok {
		return 0, false
	}
	return addr, true
}

func (m *image) lookupGNU(name string, match func(uint32) (uintptr, bool)) (uintptr, bool) {
	h := uint32(5381)
	for i := 0; i < len(name); i++ {
		h = h*33 + uint32(name[i])
	}
	t := m.gnuHash
	nbuckets, ok1 := m.u32(t)
	symoffset, ok2 := m.u32(t + 4)
	bloomSize, ok3 := m.u32(t + 8)
	if !ok1 || !ok2 || !ok3 || nbuckets == 0 {
		return 0, false
	}
	buckets := t + 16 + uintptr(bloomSize)*8
	chain := buckets + uintptr(nbuckets)*4
	i, ok := m.u32(buckets + uintptr(h%nbuckets)*4)
	if !ok || i < symoffset {
		return 0, false
	}
	for n := 0; n < 1<<20; n, i = n+1, i+1 {
		h2, ok := m.u32(chain + uintptr(i-symoffset)*4)
		if !ok {
			return 0, false
		}
		if h|1 == h2|1 {
			if addr, ok := match(i); ok {
				return addr, true
			}
		}
		if h2&1 != 0 {
			break
		}
	}
	return 0, false
}

func (m *image) lookupSysV(name string, match func(uint32) (uintptr, bool)) (uintptr, bool) {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h<<4 + uint32(name[i])
		g := h & 0xf0000000
		if g != 0 {
			h ^= g >> 24
		}
		h &^= g
	}
	t := m.sysvHs
	nbucket, ok1 := m.u32(t)
	nchain, ok2 := m.u32(t + 4)
	if !ok1 || !ok2 || nbucket == 0 {
		return 0, false
	}
	i, ok := m.u32(t + 8 + uintptr(h%nbucket)*4)
	for n := uint32(0); ok && i != 0 && i < nchain && n < nchain; n++ {
		if addr, ok := match(i); ok {
			return addr, true
		}
		i, ok = m.u32(t + 8 + uintptr(nbucket)*4 + uintptr(i)*4)
	}
	return 0, false
}

// ptrAt turns the address of memory outside the Go heap (mapped by the
// loader, never freed) into a pointer.
func ptrAt(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }
