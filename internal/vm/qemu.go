package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// bootOptions are the knobs of one boot.
type bootOptions struct {
	timeout     time.Duration // whole boot, from qemu start to exit
	testTimeout time.Duration // per command, enforced by the guest's init
	smp         int
	numa        int // NUMA nodes to split the CPUs and memory over; 0: none
	memory      string
	verbose     bool // echo the console to stdout
	loud        bool // drop "quiet" from the kernel command line
}

// qemuCommand returns the qemu binary and arguments for arch. TCG only:
// KVM was seen failing in the kernel's decompressor on these machines.
// The NUMA options must have been checked (numaArgs).
func qemuCommand(arch, image, initrd string, o bootOptions) (string, []string) {
	console, bin, machine := "ttyS0", "qemu-system-x86_64", []string{}
	if arch == "arm64" {
		console, bin, machine = "ttyAMA0", "qemu-system-aarch64", []string{"-M", "virt", "-cpu", "max"}
	}
	appendLine := fmt.Sprintf("console=%s panic=-1 vmtest.timeout=%d", console, int(o.testTimeout.Seconds()))
	if !o.loud {
		appendLine += " quiet"
	}
	args := append(machine,
		"-accel", "tcg",
		"-smp", fmt.Sprint(o.smp),
		"-m", o.memory,
	)
	numa, _ := numaArgs(o.smp, o.numa, o.memory)
	args = append(args, numa...)
	args = append(args,
		"-nographic", "-no-reboot",
		"-nic", "none", // no NIC: no iPXE option ROM, faster boot
		"-kernel", image,
		"-initrd", initrd,
		"-append", appendLine)
	return bin, args
}

// bootResult is the outcome of one boot.
type bootResult struct {
	console  consoleState
	total    time.Duration
	timedOut bool
	exitErr  error
	cmdline  string
}

// boot runs qemu, tees the serial console into logPath, and parses the
// VMTEST lines. qemu ends by itself when the guest restarts (-no-reboot);
// after the timeout it is killed.
func boot(arch, image, initrd, logPath string, o bootOptions) (*bootResult, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	bin, args := qemuCommand(arch, image, initrd, o)
	res := &bootResult{cmdline: bin + " " + shellJoin(args)}
	fmt.Fprintf(logf, "# %s\n", res.cmdline)

	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = nil
	cmd.Stderr = logf
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v (install it with -install or scripts/vm/install-deps.sh)", bin, err)
	}
	var sinks []io.Writer = []io.Writer{logf}
	if o.verbose {
		sinks = append(sinks, os.Stdout)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := bufio.NewReader(io.TeeReader(out, io.MultiWriter(sinks...)))
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				res.console.feed(strings.TrimRight(line, "\r\n"), time.Since(start))
			}
			if err != nil {
				return
			}
		}
	}()
	wg.Wait()
	res.exitErr = cmd.Wait()
	res.total = time.Since(start)
	res.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
	return res, nil
}

// shellJoin quotes args for a copy-pasteable log line.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
