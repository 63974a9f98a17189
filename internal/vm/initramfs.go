package main

import (
	"bufio"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// testsDir is where the initramfs holds the test executables and the run
// list read by internal/vm/init.
const testsDir = "/tests"

// harnessDirs are the directories every initramfs has.
var harnessDirs = map[string]bool{"dev": true, "proc": true, "sys": true, "tmp": true, "bin": true, "sbin": true, "root": true}

// writeInitramfs writes an uncompressed newc initramfs to path with /init,
// a console node, the extra files (-file: a dynamic loader and the C
// library, say), the test executables and /tests/run.list.
func writeInitramfs(path, initBin string, files []guestFile, tests []testSpec, bins map[string]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := newCPIOWriter(bw)
	for _, d := range slices.Sorted(maps.Keys(harnessDirs)) {
		w.Mkdir(d, 0o755)
	}
	// The kernel opens /dev/console for init's stdio before init runs,
	// so the node must exist in the archive (devtmpfs is not mounted yet).
	w.CharDev("dev/console", 0o600, 5, 1)
	if err := addFile(w, "init", initBin); err != nil {
		f.Close()
		return err
	}
	for _, g := range files {
		w.File(g.dst, g.perm, g.data)
	}
	var list strings.Builder
	for _, t := range tests {
		dst := filepath.Join(testsDir, t.name)
		if err := addFile(w, dst, bins[t.name]); err != nil {
			f.Close()
			return err
		}
		list.WriteString(runListLine(t, dst) + "\n")
	}
	w.File(filepath.Join(testsDir, "run.list"), 0o644, []byte(list.String()))
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func addFile(w *cpioWriter, dst, src string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	w.File(dst, 0o755, data)
	return nil
}
