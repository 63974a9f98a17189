//go:build linux

package rseq

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelloStaysStatic: a program that imports rseq and uses no cgo of its
// own stays a static binary with the default CGO_ENABLED=1, as it is
// without rseq: importing the package must not change how a binary links
// (no dynamic loader, no libc), or FROM scratch images break.
func TestHelloStaysStatic(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	if testing.Short() {
		t.Skip("builds a program (-short)")
	}
	out := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command(gobin, "build", "-o", out, "./testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the program has %v: it links dynamically", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) != 0 {
		t.Errorf("the program needs %v", libs)
	}
	if b, err := exec.Command(out).CombinedOutput(); err != nil || !strings.HasPrefix(string(b), "8000 ") {
		t.Errorf("running it: %v: %s", err, b)
	}
}
