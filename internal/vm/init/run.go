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
	"slices"
	"strings"
	"syscall"
	"time"
)

// command is one line of the run list.
type command struct {
	name string   // base name of the executable
	line string   // the line as written
	argv []string // path and arguments
	env  []string // KEY=VALUE added to testEnv
}

// readRunList parses the run list: one command per line, fields separated
// by spaces, "[env KEY=VALUE...] path args..." (as with env(1), KEY a shell
// identifier); blank lines and lines starting with # are skipped.
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
		c, err := parseCommand(line)
		if err != nil {
			return cmds, err
		}
		cmds = append(cmds, c)
	}
	return cmds, sc.Err()
}

// parseCommand parses one run-list line.
func parseCommand(line string) (command, error) {
	argv := strings.Fields(line)
	var env []string
	if argv[0] == "env" {
		argv = argv[1:]
		for len(argv) > 0 && isAssignment(argv[0]) {
			env, argv = append(env, argv[0]), argv[1:]
		}
		if len(env) == 0 || len(argv) == 0 {
			return command{}, fmt.Errorf("bad run-list line %q: want env KEY=VALUE... path args...", line)
		}
	}
	return command{name: filepath.Base(argv[0]), line: line, argv: argv, env: env}, nil
}

// isAssignment reports whether w is KEY=VALUE with KEY a shell identifier.
func isAssignment(w string) bool {
	key, _, ok := strings.Cut(w, "=")
	if !ok || key == "" {
		return false
	}
	for i, r := range key {
		if !(r == '_' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return true
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
	cmd.Env = slices.Concat(testEnv, c.env) // a later duplicate wins
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
