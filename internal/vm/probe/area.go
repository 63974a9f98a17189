//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/gorseq/rseq/internal/abi"
	"golang.org/x/sys/unix"
)

// flagUnregister is RSEQ_FLAG_UNREGISTER.
const flagUnregister = abi.FlagUnregister

// signature is the abort signature given at registration: glibc's, per
// architecture. The probe runs no critical section, so any value works.
var signature = map[string]uint32{"amd64": abi.SigAMD64, "arm64": abi.SigARM64}[runtime.GOARCH]

// area is a per-thread rseq area in its own mmap'd page: page alignment
// satisfies any AT_RSEQ_ALIGN, and the memory is outside the Go heap, so it
// never moves and is never freed while registered.
type area struct {
	mem      []byte
	snapshot fields // last fields read after a successful call
}

// fields are the kernel-written members of struct rseq.
type fields struct {
	cpuIDStart, cpuID uint32
	rseqCS            uint64
	flags             uint32
	nodeID, mmCID     uint32
	sliceCtrl         uint32
}

func newArea() (*area, error) {
	mem, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	a := &area{mem: mem}
	a.reset()
	return a, nil
}

// reset zeroes the area and sets cpu_id to RSEQ_CPU_ID_UNINITIALIZED (-1),
// as libc does before registering.
func (a *area) reset() {
	clear(a.mem)
	binary.NativeEndian.PutUint32(a.mem[4:], 0xFFFFFFFF)
}

// areaLength is the length the library registers with (V2 on 7.0+).
func areaLength(featureSize, align uint64) uint64 {
	return uint64(abi.RegistrationLength(int(featureSize), int(align), 4096))
}

// register calls rseq(area, length, flags, signature) on this thread.
func (a *area) register(length uint64, flags int) error {
	e := abi.Register(unsafe.Pointer(&a.mem[0]), int(length), flags, signature)
	a.snapshot = a.read()
	if e != 0 {
		return e
	}
	return nil
}

// read loads the fields; the kernel writes them, so a torn read across a
// migration is possible and harmless for a report.
func (a *area) read() fields {
	m := a.mem
	le := binary.NativeEndian
	return fields{
		cpuIDStart: le.Uint32(m[0:]), cpuID: le.Uint32(m[4:]), rseqCS: le.Uint64(m[8:]),
		flags: le.Uint32(m[16:]), nodeID: le.Uint32(m[20:]), mmCID: le.Uint32(m[24:]),
		sliceCtrl: le.Uint32(m[28:]),
	}
}

// fields describes the current kernel-written fields.
func (a *area) fields() string {
	f := a.read()
	return fmt.Sprintf("cpu_id_start=%d cpu_id=%d node_id=%d mm_cid=%d flags=%#x slice_ctrl=%#x",
		int32(f.cpuIDStart), int32(f.cpuID), f.nodeID, f.mmCID, f.flags, f.sliceCtrl)
}
