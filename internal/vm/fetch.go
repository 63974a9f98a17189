package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// kernel is a kernel image ready to boot.
type kernel struct {
	spec    kernelSpec
	image   string // path of the bootable image (bzImage or arm64 Image)
	config  string // path of its .config ("" if unknown)
	release string // uname -r as packaged, or the build's release
	pkg     string // package and version it came from
}

// pickNewest returns the newest kernel version among package names of the
// form linux-binary-<ver>-<flavour> or linux-image-<ver>-<flavour>.
func pickNewest(names []string, flavour, prefix string) (string, bool) {
	re := regexp.MustCompile(`^linux-(?:binary|image)-(\d\S*)-` + regexp.QuoteMeta(flavour) + `$`)
	best := ""
	for _, n := range names {
		m := re.FindStringSubmatch(n)
		if m == nil || !strings.HasPrefix(m[1], prefix) {
			continue
		}
		if best == "" || versionLess(best, m[1]) {
			best = m[1]
		}
	}
	return best, best != ""
}

// fetchOptions controls how fetchKernel talks to apt.
type fetchOptions struct {
	cache   string
	maxAge  time.Duration
	refresh bool
	logf    func(string, ...any)
}

// fetchKernel resolves the newest kernel of spec with a private apt root,
// downloads and unpacks it unless the cache already has it, and returns
// the image path.
func fetchKernel(spec kernelSpec, o fetchOptions) (*kernel, error) {
	if spec.suite == "" {
		return localKernel(spec, o.cache)
	}
	apt := newAptRoot(o.cache, spec)
	if err := apt.prepare(); err != nil {
		return nil, err
	}
	if err := apt.update(o.maxAge, o.refresh, o.logf); err != nil {
		return nil, err
	}
	var names []string
	for _, p := range []string{"linux-binary-", "linux-image-"} {
		n, err := apt.pkgnames(p)
		if err != nil {
			return nil, err
		}
		names = append(names, n...)
	}
	ver, ok := pickNewest(names, spec.flavour, spec.prefix)
	if !ok {
		return nil, fmt.Errorf("no linux-binary/linux-image package for flavour %s%s in %s",
			spec.flavour, prefixNote(spec.prefix), spec.suite)
	}
	release := ver + "-" + spec.flavour
	// Since 2026 Debian splits the image: linux-binary-* has vmlinuz and
	// linux-base-* has the config. Older suites ship both in linux-image-*.
	pkgs := []string{"linux-image-" + release}
	if contains(names, "linux-binary-"+release) {
		pkgs = []string{"linux-binary-" + release, "linux-base-" + release}
	}
	pkgver, err := apt.version(pkgs[0])
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(o.cache, "kernels", release+"_"+pkgver)
	k := &kernel{spec: spec, image: filepath.Join(dir, "vmlinuz"), config: filepath.Join(dir, "config"),
		release: release, pkg: pkgs[0] + " " + pkgver}
	if _, err := os.Stat(k.image); err == nil {
		return k, nil
	}
	start := time.Now()
	debs := filepath.Join(o.cache, "debs", spec.suite+"-"+spec.arch)
	if err := apt.download(debs, pkgs...); err != nil {
		return nil, err
	}
	if err := unpackKernel(debs, pkgs, dir); err != nil {
		return nil, err
	}
	o.logf("%s: fetched %s in %.1fs", spec.name, k.pkg, time.Since(start).Seconds())
	return k, nil
}

func prefixNote(p string) string {
	if p == "" {
		return ""
	}
	return " (version " + p + "*)"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unpackKernel extracts the downloaded packages with dpkg-deb into a
// scratch directory, keeps only the image (gunzipped when needed) and the
// config in dir, and removes the rest.
func unpackKernel(debs string, pkgs []string, dir string) error {
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	for _, p := range pkgs {
		matches, _ := filepath.Glob(filepath.Join(debs, p+"_*.deb"))
		if len(matches) == 0 {
			return fmt.Errorf("downloaded %s not found in %s", p, debs)
		}
		deb := matches[len(matches)-1]
		if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
			return fmt.Errorf("dpkg-deb -x %s: %v: %s", deb, err, out)
		}
	}
	image := firstGlob(root, "boot/vmlinuz-*", "usr/lib/modules/*/vmlinuz", "boot/vmlinux-*")
	config := firstGlob(root, "boot/config-*", "usr/lib/modules/*/config")
	if image == "" {
		return fmt.Errorf("no vmlinuz in %s", strings.Join(pkgs, ", "))
	}
	data, err := os.ReadFile(image)
	if err != nil {
		return err
	}
	if data, err = maybeGunzip(data); err != nil {
		return fmt.Errorf("%s: %v", image, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "vmlinuz"), data, 0o644); err != nil {
		return err
	}
	if config != "" {
		if err := copyFile(config, filepath.Join(tmp, "config")); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	_ = os.RemoveAll(dir)
	return os.Rename(tmp, dir)
}

func firstGlob(root string, patterns ...string) string {
	for _, p := range patterns {
		if m, _ := filepath.Glob(filepath.Join(root, p)); len(m) > 0 {
			return m[0]
		}
	}
	return ""
}

// maybeGunzip decompresses data when it is a gzip stream. arm64 kernels
// are sometimes packaged as a gzip'd Image, which qemu's -kernel accepts
// only uncompressed on some versions.
func maybeGunzip(data []byte) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// localKernel finds a kernel built into the cache by a script, e.g.
// scripts/vm/build-slice-kernel.sh, which writes kernels/<name>/current as
// a directory holding vmlinuz, config and release.
func localKernel(spec kernelSpec, cache string) (*kernel, error) {
	dir := filepath.Join(cache, "kernels", spec.name, "current")
	k := &kernel{spec: spec, image: filepath.Join(dir, "vmlinuz"), config: filepath.Join(dir, "config")}
	if _, err := os.Stat(k.image); err != nil {
		return nil, fmt.Errorf("no built kernel at %s (run scripts/vm/build-slice-kernel.sh first)", k.image)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "release")); err == nil {
		k.release = strings.TrimSpace(string(b))
	}
	k.pkg = "local build " + dir
	return k, nil
}
