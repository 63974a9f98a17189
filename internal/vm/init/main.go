//go:build linux

// Command init is the /init of the VM harness's initramfs.
//
// It runs as PID 1 inside a qemu guest: it mounts the pseudo file systems,
// prints a start marker with the kernel release and machine, runs every
// command listed in /tests/run.list with a per-command timeout, prints one
// VMTEST line per event, and restarts the machine (qemu runs with
// -no-reboot, so a restart ends the VM).
//
// Console protocol (parsed by the harness in internal/vm):
//
//	VMTEST START release=<uname -r> arch=<uname -m> cpus=<n> nodes=<online NUMA nodes>
//	VMTEST BEGIN <name> cmd=<command line>
//	VMTEST END <name> rc=<n> secs=<s>[ timeout]
//	VMTEST DONE pass=<n> fail=<m>
//
// Tests may print "VMTEST NOTE <text>" lines of their own; the harness
// repeats them under its table.
//
// The per-command timeout comes from the kernel command line,
// vmtest.timeout=<seconds> (default 300).
package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// runList is the file that names the commands to run, one per line.
const runList = "/tests/run.list"

// defaultTimeout bounds one command when the command line sets none.
const defaultTimeout = 300 * time.Second

func main() {
	mountAll()
	ensureConsole()
	release, machine := uname()
	fmt.Printf("VMTEST START release=%s arch=%s cpus=%d nodes=%d\n", release, machine, onlineCPUs(), onlineNodes())

	cmds, err := readRunList(runList)
	if err != nil {
		fmt.Printf("VMTEST ERROR reading %s: %v\n", runList, err)
	}
	timeout := cmdlineTimeout(defaultTimeout)
	pass, fail := 0, 0
	if err != nil {
		fail++
	}
	for _, c := range cmds {
		if runOne(c, timeout) {
			pass++
		} else {
			fail++
		}
	}
	fmt.Printf("VMTEST DONE pass=%d fail=%d\n", pass, fail)
	halt()
}

// halt flushes the file systems and restarts the machine, which ends a
// qemu started with -no-reboot. If the reboot call fails, returning from
// PID 1 panics the kernel, and panic=-1 restarts it as well.
func halt() {
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
		fmt.Printf("VMTEST ERROR reboot: %v\n", err)
	}
	os.Exit(1)
}
