//go:build linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// mount describes one pseudo file system mounted at boot.
type mount struct {
	source, target, fstype string
	data                   string
}

// mounts are the file systems tests may need. Failures are ignored: a
// kernel without debugfs still runs the tests.
var mounts = []mount{
	{"proc", "/proc", "proc", ""},
	{"sysfs", "/sys", "sysfs", ""},
	{"devtmpfs", "/dev", "devtmpfs", ""},
	{"tmpfs", "/tmp", "tmpfs", "mode=1777"},
	{"debugfs", "/sys/kernel/debug", "debugfs", ""},
}

// mountAll mounts every entry of mounts, creating the mount points.
func mountAll() {
	for _, m := range mounts {
		_ = os.MkdirAll(m.target, 0o755)
		_ = unix.Mount(m.source, m.target, m.fstype, 0, m.data)
	}
}

// ensureConsole points stdin, stdout and stderr at /dev/console when the
// kernel started init without them (no console node in the initramfs).
func ensureConsole() {
	if _, err := unix.FcntlInt(1, unix.F_GETFD, 0); err == nil {
		return
	}
	fd, err := unix.Open("/dev/console", unix.O_RDWR, 0)
	if err != nil {
		return
	}
	for i := 0; i < 3; i++ {
		if fd != i {
			_ = unix.Dup2(fd, i)
		}
	}
}
