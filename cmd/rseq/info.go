package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/gorseq/rseq"
)

// infoJSON is rseq.Info with its enums as words.
type infoJSON struct {
	Usable         bool   `json:"usable"`
	Reason         string `json:"reason,omitempty"`
	Error          string `json:"error,omitempty"`
	OS             string `json:"os"`
	Arch           string `json:"arch"`
	Kernel         string `json:"kernel,omitempty"`
	Cgo            bool   `json:"cgo"`
	Owner          string `json:"owner"`
	RegisteredLen  int    `json:"registered_len"`
	Mode           string `json:"mode"`
	Signature      string `json:"signature"`
	FeatureSize    int    `json:"feature_size"`
	Align          int    `json:"align"`
	NodeID         bool   `json:"node_id"`
	ConcurrencyID  bool   `json:"concurrency_id"`
	Fence          bool   `json:"fence"`
	PossibleCPUs   int    `json:"possible_cpus"`
	NUMANodes      int    `json:"numa_nodes"`
	ThreadFailures uint64 `json:"thread_failures"`
	CPU            int    `json:"cpu"`
}

func runInfo(args []string) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	in := rseq.ReadInfo()
	if !*asJSON {
		fmt.Print(in)
		fmt.Printf("%-16s %d\n", "current CPU", rseq.CPU())
		return nil
	}
	j := infoJSON{
		Usable: in.Usable, OS: in.OS, Arch: in.Arch, Kernel: in.Kernel, Cgo: in.Cgo,
		Owner: in.Owner.String(), RegisteredLen: in.RegisteredLen, Mode: in.Mode.String(),
		Signature: fmt.Sprintf("%#x", in.Signature), FeatureSize: in.FeatureSize, Align: in.Align,
		NodeID: in.NodeID, ConcurrencyID: in.ConcurrencyID, Fence: in.Fence,
		PossibleCPUs: in.PossibleCPUs, NUMANodes: in.NUMANodes, ThreadFailures: in.ThreadFailures, CPU: rseq.CPU(),
	}
	if !in.Usable {
		j.Reason = in.Reason.String()
	}
	if in.Err != nil {
		j.Error = in.Err.Error()
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}
