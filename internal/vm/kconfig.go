package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// requiredConfig lists, per architecture, the options the harness needs
// built in: the serial console it reads, and the initramfs it boots. The
// harness loads no modules, so "=m" is as bad as absent.
var requiredConfig = map[string][]string{
	"amd64": {"CONFIG_SERIAL_8250", "CONFIG_SERIAL_8250_CONSOLE", "CONFIG_BLK_DEV_INITRD", "CONFIG_BINFMT_ELF"},
	"arm64": {"CONFIG_SERIAL_AMBA_PL011", "CONFIG_SERIAL_AMBA_PL011_CONSOLE", "CONFIG_BLK_DEV_INITRD", "CONFIG_BINFMT_ELF"},
}

// reportedConfig lists options worth showing in the summary.
var reportedConfig = []string{"CONFIG_RSEQ", "CONFIG_RSEQ_SLICE_EXTENSION", "CONFIG_DEBUG_RSEQ"}

// readConfig parses a kernel .config into option -> value ("y", "m", ...).
func readConfig(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "CONFIG_") {
			cfg[k] = strings.Trim(v, `"`)
		}
	}
	return cfg, sc.Err()
}

// checkConfig reports the required options that are not built in, and a
// short note of the options in reportedConfig. A kernel without a config
// file passes with a note.
func checkConfig(k *kernel) (note string, err error) {
	if k.config == "" {
		return "no config", nil
	}
	cfg, err := readConfig(k.config)
	if os.IsNotExist(err) {
		return "no config", nil
	}
	if err != nil {
		return "", err
	}
	var missing []string
	for _, opt := range requiredConfig[k.spec.arch] {
		if cfg[opt] != "y" {
			v := cfg[opt]
			if v == "" {
				v = "unset"
			}
			missing = append(missing, opt+"="+v)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("needs built-in %s (the harness loads no modules)",
			strings.Join(missing, ", "))
	}
	var parts []string
	for _, opt := range reportedConfig {
		v := cfg[opt]
		if v == "" {
			v = "n"
		}
		parts = append(parts, strings.TrimPrefix(opt, "CONFIG_")+"="+v)
	}
	return strings.Join(parts, " "), nil
}
