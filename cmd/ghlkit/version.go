package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print ghlkit's version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			v := buildVersion()
			if asJSON {
				out, err := json.Marshal(v)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.stdout, "%s\n", out)
				return err
			}
			line := "ghlkit " + v.Version + " (" + v.Go
			if v.Commit != "" {
				line += ", commit " + v.Commit
				if v.Modified {
					line += "+dirty"
				}
			}
			_, err := fmt.Fprintln(c.stdout, line+")")
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// versionInfo describes the running binary.
type versionInfo struct {
	Version  string `json:"version"`
	Go       string `json:"go"`
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"`
}

// buildVersion reads the version from the build info Go embeds: the module
// version for `go install …@vX`, "(devel)" for a local build, plus the VCS
// commit when it was recorded. No -ldflags needed.
func buildVersion() versionInfo {
	v := versionInfo{Version: "(devel)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
			if len(v.Commit) > 12 {
				v.Commit = v.Commit[:12]
			}
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}
