package rseq

import (
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelRelease returns uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// possibleCPUs is the number of CPU ids the kernel may use: one more than
// the highest id in /sys/devices/system/cpu/possible. Both cpu_id and mm_cid
// stay below it.
func possibleCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err == nil {
		if n := parseCPUList(strings.TrimSpace(string(b))); n > 0 {
			return n
		}
	}
	// No sysfs (some containers): the affinity mask's size is the kernel's
	// nr_cpu_ids rounded up, a safe upper bound.
	var set unix.CPUSet
	return len(set) * int(unsafe.Sizeof(set[0])) * 8
}

// parseCPUList returns one more than the largest CPU in a list such as
// "0-3,8,10-11", or 0 if it cannot be parsed.
func parseCPUList(s string) int {
	max := -1
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		hi := part
		if i := strings.IndexByte(part, '-'); i >= 0 {
			hi = part[i+1:]
		}
		n, err := strconv.Atoi(hi)
		if err != nil || n < 0 {
			return 0
		}
		if n > max {
			max = n
		}
	}
	return max + 1
}

// getcpu asks the kernel which CPU and node this thread runs on.
func getcpu() (cpu, node int) {
	var c, n uint32
	_, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return -1, -1
	}
	return int(c), int(n)
}

func gettid() int { return unix.Gettid() }
