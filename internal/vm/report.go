package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// kernelRun is one row of the final table.
type kernelRun struct {
	spec   kernelSpec
	kernel *kernel // nil if fetching failed
	note   string  // config note
	boot   *bootResult
	err    error // fetch, build or boot error
	log    string
	failed []*bootResult // earlier attempts that died before /init started
	tries  []string      // their logs
}

// ok reports whether every test for the kernel's architecture passed and
// the guest finished cleanly.
func (r *kernelRun) ok(tests []testSpec) bool {
	if r.err != nil || r.boot == nil || r.boot.timedOut || !r.boot.console.done {
		return false
	}
	tests = testsFor(tests, r.spec.arch)
	c := &r.boot.console
	if c.fail != 0 || c.pass != len(tests) {
		return false
	}
	for _, t := range tests {
		if res := c.result(t.name); res == nil || !res.ended || res.rc != 0 || res.timeout {
			return false
		}
	}
	return true
}

// status is the short overall word of a row.
func (r *kernelRun) status(tests []testSpec) string {
	switch {
	case r.err != nil:
		return "ERROR"
	case r.boot.timedOut:
		return "TIMEOUT"
	case !r.boot.console.started:
		return "NO-BOOT"
	case !r.boot.console.done:
		return "CRASH"
	case r.ok(tests) && len(r.failed) > 0:
		return fmt.Sprintf("PASS (boot %d)", len(r.failed)+1)
	case r.ok(tests):
		return "PASS"
	}
	return "FAIL"
}

// cell describes one test's outcome on one kernel: "-" where it did not
// boot, or the test is for another architecture.
func cell(r *kernelRun, spec testSpec) string {
	if r.boot == nil || !spec.forArch(r.spec.arch) {
		return "-"
	}
	t := r.boot.console.result(spec.name)
	switch {
	case t == nil:
		return "not run"
	case !t.ended:
		return "no end"
	case t.timeout:
		return fmt.Sprintf("timeout %.0fs", t.secs)
	case t.rc != 0:
		return fmt.Sprintf("FAIL rc=%d %.1fs", t.rc, t.secs)
	}
	return fmt.Sprintf("ok %.1fs", t.secs)
}

// printTable writes the matrix: one row per kernel, one column per test,
// then the errors and log paths.
func printTable(w io.Writer, runs []*kernelRun, tests []testSpec) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"KERNEL", "RELEASE", "ARCH", "CPUS", "BOOT", "TOTAL"}
	for _, t := range tests {
		head = append(head, t.name)
	}
	head = append(head, "RESULT")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range runs {
		row := []string{r.spec.name, "-", r.spec.arch, "-", "-", "-"}
		if r.kernel != nil && r.kernel.release != "" {
			row[1] = r.kernel.release
		}
		if b := r.boot; b != nil {
			c := &b.console
			if c.release != "" {
				row[1] = c.release
			}
			if c.machine != "" {
				row[2] = c.machine
			}
			if c.cpus > 0 {
				row[3] = fmt.Sprint(c.cpus)
			}
			if c.nodes > 1 {
				row[3] += fmt.Sprintf(" (%d nodes)", c.nodes)
			}
			if c.started {
				row[4] = fmt.Sprintf("%.1fs", c.bootTime.Seconds())
			}
			row[5] = fmt.Sprintf("%.1fs", b.total.Seconds())
		}
		for _, t := range tests {
			row = append(row, cell(r, t))
		}
		row = append(row, r.status(tests))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	for _, r := range runs {
		if r.err != nil {
			fmt.Fprintf(w, "%s: %v\n", r.spec.name, r.err)
		}
		if r.boot != nil {
			if r.boot.exitErr != nil && !r.ok(tests) {
				fmt.Fprintf(w, "%s: qemu: %v\n", r.spec.name, r.boot.exitErr)
			}
			for _, e := range r.boot.console.errors {
				fmt.Fprintf(w, "%s: guest: %s\n", r.spec.name, e)
			}
			for _, n := range r.boot.console.notes {
				fmt.Fprintf(w, "%s: note: %s\n", r.spec.name, n)
			}
			for _, k := range r.boot.console.kernel {
				fmt.Fprintf(w, "%s: kernel: %s\n", r.spec.name, k)
			}
		}
		for i, b := range r.failed {
			first := "no kernel message"
			if len(b.console.kernel) > 0 {
				first = b.console.kernel[0]
			}
			fmt.Fprintf(w, "%s: boot %d died before /init (%s), log %s\n", r.spec.name, i+1, first, r.tries[i])
		}
		if r.kernel != nil {
			fmt.Fprintf(w, "%s: %s [%s]", r.spec.name, r.kernel.pkg, r.note)
			if r.log != "" {
				fmt.Fprintf(w, " log %s", r.log)
			}
			fmt.Fprintln(w)
		}
	}
}
