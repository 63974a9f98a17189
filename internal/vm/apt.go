package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// aptRoot is a private apt configuration: its own sources list, package
// lists, caches and an empty dpkg status, so that the host's apt state is
// neither read nor changed and foreign architectures can be queried.
type aptRoot struct {
	dir     string
	arch    string
	sources []string
}

func newAptRoot(cache string, k kernelSpec) *aptRoot {
	return &aptRoot{dir: filepath.Join(cache, "apt", k.suite+"-"+k.arch), arch: k.arch, sources: k.sources}
}

// options are the -o arguments that make apt use this root only.
func (a *aptRoot) options() []string {
	d := a.dir
	opts := map[string]string{
		"Dir::Etc::SourceList":       filepath.Join(d, "etc/sources.list"),
		"Dir::Etc::SourceParts":      filepath.Join(d, "etc/sources.list.d"),
		"Dir::Etc::Preferences":      filepath.Join(d, "etc/preferences"),
		"Dir::Etc::PreferencesParts": filepath.Join(d, "etc/preferences.d"),
		"Dir::State":                 filepath.Join(d, "state"),
		"Dir::State::status":         filepath.Join(d, "state/status"),
		"Dir::Cache":                 filepath.Join(d, "cache"),
		"APT::Architecture":          a.arch,
		"APT::Architectures":         a.arch,
		"APT::Sandbox::User":         "root",
		"Acquire::Languages":         "none",
		// The host's apt.conf.d may add AppStream (DEP-11) targets: not needed.
		"Acquire::IndexTargets::deb::DEP-11::DefaultEnabled":             "false",
		"Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled":       "false",
		"Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled": "false",
		"Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled": "false",
	}
	var args []string
	for k, v := range opts {
		args = append(args, "-o", k+"="+v)
	}
	return args
}

// prepare creates the directory layout and writes the sources list.
func (a *aptRoot) prepare() error {
	for _, sub := range []string{"etc/sources.list.d", "etc/preferences.d", "state/lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(a.dir, sub), 0o755); err != nil {
			return err
		}
	}
	status := filepath.Join(a.dir, "state/status")
	if _, err := os.Stat(status); err != nil {
		if err := os.WriteFile(status, nil, 0o644); err != nil {
			return err
		}
	}
	src := strings.Join(a.sources, "\n") + "\n"
	list := filepath.Join(a.dir, "etc/sources.list")
	if old, err := os.ReadFile(list); err == nil && string(old) == src {
		return nil
	}
	// New or changed sources: force an update by dropping the stamp.
	_ = os.Remove(a.stamp())
	return os.WriteFile(list, []byte(src), 0o644)
}

func (a *aptRoot) stamp() string { return filepath.Join(a.dir, "updated") }

// update runs apt-get update when the lists are older than maxAge (or
// missing, or force is set).
func (a *aptRoot) update(maxAge time.Duration, force bool, logf func(string, ...any)) error {
	if st, err := os.Stat(a.stamp()); err == nil && !force && time.Since(st.ModTime()) < maxAge {
		return nil
	}
	start := time.Now()
	if _, err := a.run("apt-get", "", "-q", "update"); err != nil {
		return err
	}
	logf("apt-get update %s (%s): %.1fs", filepath.Base(a.dir), a.arch, time.Since(start).Seconds())
	return os.WriteFile(a.stamp(), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// run runs an apt tool with this root's options in dir and returns stdout.
func (a *aptRoot) run(tool, dir string, args ...string) (string, error) {
	cmd := exec.Command(tool, append(a.options(), args...)...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// pkgnames lists the package names that start with prefix.
func (a *aptRoot) pkgnames(prefix string) ([]string, error) {
	out, err := a.run("apt-cache", "", "pkgnames", prefix)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// version returns the candidate version of pkg.
func (a *aptRoot) version(pkg string) (string, error) {
	out, err := a.run("apt-cache", "", "show", "--no-all-versions", pkg)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "Version: "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no version for %s", pkg)
}

// download fetches the .deb files of pkgs into dir.
func (a *aptRoot) download(dir string, pkgs ...string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_, err := a.run("apt-get", dir, append([]string{"-q", "download"}, pkgs...)...)
	return err
}
