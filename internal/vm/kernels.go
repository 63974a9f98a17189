package main

import (
	"fmt"
	"sort"
	"strings"
)

// kernelSpec names one kernel of the matrix and says where it comes from.
type kernelSpec struct {
	name    string   // matrix name, e.g. "sid-amd64"
	arch    string   // Debian and Go architecture: "amd64" or "arm64"
	suite   string   // Debian suite for apt; "" for a locally built kernel
	sources []string // sources.list lines of the private apt root
	flavour string   // package flavour, e.g. "cloud-amd64"
	prefix  string   // required prefix of the kernel version, e.g. "6.1."
}

const debianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

func debLine(uri, suite string) string {
	return fmt.Sprintf("deb [signed-by=%s] %s %s main", debianKeyring, uri, suite)
}

var (
	sidSources      = []string{debLine("http://deb.debian.org/debian", "sid")}
	bookwormSources = []string{
		debLine("http://deb.debian.org/debian", "bookworm"),
		debLine("http://deb.debian.org/debian", "bookworm-updates"),
		debLine("http://deb.debian.org/debian-security", "bookworm-security"),
	}
)

// knownKernels is the matrix the harness can run. slice-amd64 is built by
// scripts/vm/build-slice-kernel.sh into the cache; it is not fetched.
var knownKernels = map[string]kernelSpec{
	"sid-amd64":      {name: "sid-amd64", arch: "amd64", suite: "sid", sources: sidSources, flavour: "cloud-amd64"},
	"sid-arm64":      {name: "sid-arm64", arch: "arm64", suite: "sid", sources: sidSources, flavour: "cloud-arm64"},
	"bookworm-amd64": {name: "bookworm-amd64", arch: "amd64", suite: "bookworm", sources: bookwormSources, flavour: "cloud-amd64", prefix: "6.1."},
	"slice-amd64":    {name: "slice-amd64", arch: "amd64"},
}

// defaultKernels is the value of -kernels.
const defaultKernels = "sid-amd64,sid-arm64,bookworm-amd64"

// parseKernels turns a comma-separated list of matrix names into specs.
func parseKernels(list string) ([]kernelSpec, error) {
	var specs []kernelSpec
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		k, ok := knownKernels[n]
		if !ok {
			return nil, fmt.Errorf("unknown kernel %q (known: %s)", n, strings.Join(kernelNames(), ", "))
		}
		specs = append(specs, k)
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no kernels selected")
	}
	return specs, nil
}

func kernelNames() []string {
	var names []string
	for n := range knownKernels {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
