package main

import (
	"fmt"
	"os"
	"os/exec"
)

// qemuPackages maps the qemu binaries the harness runs to Debian packages.
var qemuPackages = map[string]string{
	"qemu-system-x86_64":  "qemu-system-x86",
	"qemu-system-aarch64": "qemu-system-arm",
}

// tools the harness always needs from the host.
var hostTools = []string{"apt-get", "apt-cache", "dpkg-deb", "go"}

// missingQemu returns the Debian packages to install for the binaries
// that the selected architectures need and that are not on PATH.
func missingQemu(archs map[string]bool) []string {
	var pkgs []string
	for bin, pkg := range qemuPackages {
		need := (bin == "qemu-system-x86_64" && archs["amd64"]) || (bin == "qemu-system-aarch64" && archs["arm64"])
		if _, err := exec.LookPath(bin); need && err != nil {
			pkgs = append(pkgs, pkg)
		}
	}
	return pkgs
}

// checkTools fails when a host tool is missing.
func checkTools() error {
	for _, t := range hostTools {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s not found: the harness needs a Debian-like host with apt, dpkg-deb and go", t)
		}
	}
	return nil
}

// installPackages installs pkgs into the host with apt-get (root only).
func installPackages(pkgs []string) error {
	if len(pkgs) == 0 {
		return nil
	}
	for _, args := range [][]string{
		{"update", "-q"},
		append([]string{"install", "-y", "-q", "--no-install-recommends"}, pkgs...),
	} {
		cmd := exec.Command("apt-get", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %v: %v", args, err)
		}
	}
	return nil
}
