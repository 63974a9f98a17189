package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// builder cross-compiles Go programs for the guest architectures.
type builder struct {
	modRoot string // module root: where go build runs
	outDir  string // where binaries go
}

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// build runs go build (or go test -c when test is set) of pkg for arch,
// static (CGO_ENABLED=0), and returns the binary's path.
func (b *builder) build(pkg, arch, name string, test bool) (string, error) {
	out := filepath.Join(b.outDir, arch, name)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	args := []string{"build", "-trimpath", "-o", out, pkg}
	if test {
		args = []string{"test", "-c", "-trimpath", "-o", out, pkg}
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = b.modRoot
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("GOARCH=%s go %s: %v\n%s", arch, strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// resolve returns the path of test t's executable for arch, building it
// when it is a Go package.
func (b *builder) resolve(t testSpec, arch string) (string, error) {
	switch t.kind {
	case goBuild:
		return b.build(t.src, arch, t.name, false)
	case goTest:
		return b.build(t.src, arch, t.name, true)
	}
	p := strings.ReplaceAll(t.src, "{arch}", arch)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("test %s: %v", t.name, err)
	}
	return p, nil
}
