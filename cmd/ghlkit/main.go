// Command ghlkit is the ghlkit toolkit's binary: a GoHighLevel-compatible
// sandbox (`ghlkit dev`, `ghlkit sandbox`) and the tools around it
// (`ghlkit token`, `ghlkit app`).
//
// Everything lives behind Run, so the end-to-end tests drive the same code
// path as a user's shell, and main only wires the process: signals, the
// standard streams and the exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	// Locations, calendars and free slots work in IANA time zones; the
	// binary carries their database so that it does not depend on the
	// host's (minimal container images have none).
	_ "time/tzdata"

	"github.com/spf13/cobra"

	"github.com/ghlkit/ghlkit/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful shutdown, restore the
		// default handling so that a second Ctrl-C kills at once.
		<-ctx.Done()
		stop()
	}()
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes of Run.
const (
	exitOK    = 0
	exitError = 1 // the command failed (database unreachable, unknown location, …)
	exitUsage = 2 // the command line, environment or config file is wrong
)

// Run runs the ghlkit command line args (without the program name) and
// returns the process exit code. Cancelling ctx stops a running server
// gracefully. Results go to stdout, logs and messages to stderr.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	root := newRootCmd(&cli{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: os.LookupEnv})
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "ghlkit: %s\n", errorText(err))
	var ue *usageError
	if errors.As(err, &ue) {
		path := "ghlkit"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", path)
		return exitUsage
	}
	return exitError
}

// errorText is the message of err for a person: a sandbox error's own
// message (all of a validation error's), not its debugging form.
func errorText(err error) string {
	var se *sandbox.Error
	if errors.As(err, &se) {
		if len(se.Details) > 1 {
			return strings.Join(se.Details, "; ")
		}
		return se.Message
	}
	return err.Error()
}

// cli is what every subcommand shares: the process's streams and
// environment, passed in so tests can run commands in-process.
type cli struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)
}

// usageError is a mistake in how ghlkit was invoked — a bad flag, env var
// or config file value, an unknown command — as opposed to a failure while
// doing the work. Run exits 2 for it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

func newRootCmd(c *cli) *cobra.Command {
	root := &cobra.Command{
		Use:   "ghlkit",
		Short: "Toolkit for GoHighLevel integrations: a compatible sandbox and its tools",
		Long: `ghlkit runs a self-hosted, stateful server that speaks GoHighLevel's API v2
(the official Node SDK and your integrations work against it unchanged, only the
base URL differs), and the tools to manage it.

Start here:
  ghlkit dev      run the sandbox with demo data and print a token to use

Flags also come from GHLKIT_* environment variables (GHLKIT_LISTEN, GHLKIT_DB, …)
and from a YAML file named by --config or GHLKIT_CONFIG; a flag on the command
line wins over the environment, which wins over the file.`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		Args:              subcommandArgs,
		RunE:              missingSubcommand,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return applyConfig(cmd, c.lookupEnv) },
	}
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.PersistentFlags().String(configFlag, "", "YAML file with flag values (env GHLKIT_CONFIG)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(newDevCmd(c), newSandboxCmd(c), newTokenCmd(c), newAppCmd(c), newVersionCmd(c))
	root.AddCommand(newListenCmd(c), newTriggerCmd(c), newKeysCmd(c), newWebhookCmd(c))
	return root
}

// subcommandArgs rejects arguments of a command that only groups others:
// an argument there is a mistyped subcommand.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return &usageError{errors.New(msg)}
}

// missingSubcommand runs when a group command is called without one.
func missingSubcommand(cmd *cobra.Command, _ []string) error {
	cmd.SetOut(cmd.ErrOrStderr())
	_ = cmd.Help()
	return usageErrorf("%s needs a subcommand", cmd.CommandPath())
}

// noArgs rejects positional arguments of a command that takes none.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}
