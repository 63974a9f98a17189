package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// run is the whole harness: fetch, build, boot, report.
func run(c *config) error {
	t0 := time.Now()
	if err := checkTools(); err != nil {
		return err
	}
	specs, err := parseKernels(c.kernels)
	if err != nil {
		return err
	}
	if c.testFile != "" {
		more, err := readTestFile(c.testFile)
		if err != nil {
			return err
		}
		c.tests = append(c.tests, more...)
	}
	if len(c.tests) == 0 {
		c.tests = []testSpec{{name: "probe", kind: goBuild, src: "./internal/vm/probe"}}
	}
	if err := checkUnique(c.tests); err != nil {
		return err
	}
	if err := checkFiles(c.files); err != nil {
		return err
	}
	if _, err := numaArgs(c.boot.smp, c.boot.numa, c.boot.memory); err != nil {
		return err
	}
	for _, d := range []string{c.cache, c.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}

	runs := fetchAll(c, specs)
	if c.fetchOnly {
		for _, r := range runs {
			if r.err != nil {
				return r.err
			}
			logf("%s: %s %s", r.spec.name, r.kernel.pkg, r.kernel.image)
		}
		return nil
	}
	archs := map[string]bool{}
	for _, r := range runs {
		archs[r.spec.arch] = true
	}
	for arch := range archs {
		if len(testsFor(c.tests, arch)) == 0 {
			return fmt.Errorf("no test runs on %s (every test has another arch: prefix)", arch)
		}
	}
	if pkgs := missingQemu(archs); len(pkgs) > 0 {
		if !c.install {
			return fmt.Errorf("missing qemu packages %v: rerun with -install or run scripts/vm/install-deps.sh", pkgs)
		}
		if err := installPackages(pkgs); err != nil {
			return err
		}
	}

	initrds, err := buildInitramfs(c, archs)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if r.err != nil {
			continue
		}
		bootKernel(c, r, initrds[r.spec.arch])
	}

	printTable(os.Stdout, runs, c.tests)
	fmt.Printf("total %.1fs\n", time.Since(t0).Seconds())
	failed := 0
	for _, r := range runs {
		if !r.ok(c.tests) {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d kernels failed", failed, len(runs))
	}
	return nil
}

// bootKernel boots r's kernel, again up to c.retries times when the
// kernel dies before /init prints its start marker: under TCG an SMP boot
// occasionally oopses while patching kernel text (seen once in ~20 boots
// of sid's 7.2.13). Test failures are never retried; earlier attempts
// stay in the report with their logs.
func bootKernel(c *config, r *kernelRun, initrd string) {
	stale, _ := filepath.Glob(filepath.Join(c.out, r.spec.name+".boot*.log"))
	for _, f := range stale {
		_ = os.Remove(f)
	}
	for try := 0; ; try++ {
		r.log = filepath.Join(c.out, r.spec.name+".log")
		if c.boot.numa > 0 {
			logf("%s: booting %s, %d CPUs on %d NUMA nodes", r.spec.name, r.kernel.release, c.boot.smp, c.boot.numa)
		} else {
			logf("%s: booting %s", r.spec.name, r.kernel.release)
		}
		r.boot, r.err = boot(r.spec.arch, r.kernel.image, initrd, r.log, c.boot)
		if r.err != nil {
			return
		}
		logf("%s: %s in %.1fs", r.spec.name, r.status(c.tests), r.boot.total.Seconds())
		if r.boot.console.started || try >= c.retries {
			return
		}
		keep := filepath.Join(c.out, fmt.Sprintf("%s.boot%d.log", r.spec.name, try+1))
		if err := os.Rename(r.log, keep); err != nil {
			return
		}
		r.failed = append(r.failed, r.boot)
		r.tries = append(r.tries, keep)
	}
}

// fetchAll resolves every kernel and checks its config; failures are
// kept in the row so that the other kernels still run.
func fetchAll(c *config, specs []kernelSpec) []*kernelRun {
	o := fetchOptions{cache: c.cache, maxAge: c.maxAge, refresh: c.refresh, logf: logf}
	var runs []*kernelRun
	for _, s := range specs {
		r := &kernelRun{spec: s}
		r.kernel, r.err = fetchKernel(s, o)
		if r.err == nil {
			r.note, r.err = checkConfig(r.kernel)
		}
		runs = append(runs, r)
	}
	return runs
}

// buildInitramfs cross-compiles /init and the tests for each architecture
// and writes one initramfs per architecture into the out dir.
func buildInitramfs(c *config, archs map[string]bool) (map[string]string, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	b := &builder{modRoot: root, outDir: filepath.Join(c.cache, "build")}
	initrds := map[string]string{}
	for arch := range archs {
		start := time.Now()
		initBin, err := b.build("./internal/vm/init", arch, "init", false)
		if err != nil {
			return nil, err
		}
		tests := testsFor(c.tests, arch)
		bins := map[string]string{}
		for _, t := range tests {
			if bins[t.name], err = b.resolve(t, arch); err != nil {
				return nil, err
			}
		}
		files, err := readFiles(c.files, arch)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(c.out, "initramfs-"+arch+".cpio")
		if err := writeInitramfs(path, initBin, files, tests, bins); err != nil {
			return nil, err
		}
		initrds[arch] = path
		logf("built %s in %.1fs", path, time.Since(start).Seconds())
	}
	return initrds, nil
}

func checkUnique(tests []testSpec) error {
	seen := map[string]bool{}
	for _, t := range tests {
		if seen[t.name] {
			return fmt.Errorf("test name %q given twice", t.name)
		}
		seen[t.name] = true
	}
	return nil
}
