//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// command is one line of the run list.
type command struct {
	name string   // base name of the executable
	line string   // the line as written
	argv []string // path and arguments
}

// readRunList parses the run list: one command per line, fields separated
// by spaces; blank lines and lines starting with # are skipped.
func readRunList(path string) ([]command, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cmds []command
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		argv := strings.Fields(line)
		cmds = append(cmds, command{name: filepath.Base(argv[0]), line: line, argv: argv})
	}
	return cmds, sc.Err()
}

// testEnv is the environment of every command. GOMAXPROCS is deliberately
// absent so that Go tests see the runtime's own choice.
var testEnv = []string{
	"PATH=/tests:/bin:/sbin",
	"HOME=/tmp",
	"TMPDIR=/tmp",
	"TERM=dumb",
}

// runOne runs c in /tmp with the console as its stdio, kills its process
// group after timeout, prints its BEGIN and END lines and reports success.
func runOne(c command, timeout time.Duration) bool {
	fmt.Printf("VMTEST BEGIN %s cmd=%s\n", c.name, c.line)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Dir = "/tmp"
	cmd.Env = testEnv
	cmd.Stdin = nil
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Kill the whole group: tests may have started children.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()

	rc := 0
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		rc = exitErr.ExitCode() // -1 when killed by a signal
	default:
		fmt.Printf("VMTEST ERROR %s: %v\n", c.name, err)
		rc = -1
	}
	suffix := ""
	if ctx.Err() != nil {
		suffix = " timeout"
		rc = -1
	}
	fmt.Printf("VMTEST END %s rc=%d secs=%.2f%s\n", c.name, rc, secs, suffix)
	return rc == 0 && suffix == ""
}
