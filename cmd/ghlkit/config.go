package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// configFlag names the YAML config file; GHLKIT_CONFIG is its env form.
const configFlag = "config"

// configAnnotation marks the flags that may also be set through a GHLKIT_*
// environment variable or a key of the config file. Flags that name what a
// single invocation acts on (--location, --name, …) are left out: they make
// no sense as standing configuration.
const configAnnotation = "ghlkit/configurable"

// configurable marks flags of fs as settable from the environment and the
// config file.
func configurable(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, configAnnotation, []string{"true"}); err != nil {
			panic(err) // a typo in a flag name: a programming error
		}
	}
}

// envName is the environment variable of a flag: GHLKIT_ and the flag's
// name in upper case with dashes as underscores (--rate-limit-burst →
// GHLKIT_RATE_LIMIT_BURST).
func envName(flag string) string {
	return "GHLKIT_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyConfig fills the configurable flags of cmd that the command line left
// unset, from the environment first and then from the config file, so the
// precedence is flag > env > file > default. A bad value anywhere is a usage
// error naming where it came from.
func applyConfig(cmd *cobra.Command, lookupEnv func(string) (string, bool)) error {
	fs := cmd.Flags()
	var flags []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Annotations[configAnnotation]; ok {
			flags = append(flags, f)
		}
	})
	if len(flags) == 0 {
		return nil
	}
	path, _ := fs.GetString(configFlag)
	if path == "" {
		path, _ = lookupEnv("GHLKIT_CONFIG")
	}
	file, err := loadConfigFile(path, knownConfigKeys(cmd.Root()))
	if err != nil {
		return &usageError{err}
	}
	for _, f := range flags {
		if f.Changed {
			continue
		}
		if v, ok := lookupEnv(envName(f.Name)); ok && v != "" {
			if err := f.Value.Set(v); err != nil {
				return usageErrorf("invalid value %q for %s: %v", v, envName(f.Name), err)
			}
			continue
		}
		if v, ok := file[f.Name]; ok {
			if err := f.Value.Set(v); err != nil {
				return usageErrorf("invalid value %q for %q in %s: %v", v, f.Name, path, err)
			}
		}
	}
	return nil
}

// knownConfigKeys lists the configurable flags of every command, so a config
// file shared by several commands (db for both sandbox and token) is valid
// for each while a misspelt key is still caught.
func knownConfigKeys(root *cobra.Command) map[string]bool {
	keys := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if _, ok := f.Annotations[configAnnotation]; ok {
				keys[f.Name] = true
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return keys
}

// loadConfigFile reads a YAML mapping of flag names to scalar values
// (listen: 127.0.0.1:9000, rate-limit-burst: 50, …). Keys may use dashes or
// underscores. An empty path is no file.
func loadConfigFile(path string, known map[string]bool) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var doc map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	out := make(map[string]string, len(doc))
	var unknown []string
	for k, v := range doc {
		key := strings.ReplaceAll(strings.ToLower(k), "_", "-")
		if !known[key] {
			unknown = append(unknown, k)
			continue
		}
		switch x := v.(type) {
		case map[string]any, []any:
			return nil, fmt.Errorf("config file %s: %s must be a single value", path, k)
		case nil:
			continue
		default:
			out[key] = fmt.Sprint(x)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		names := make([]string, 0, len(known))
		for k := range known {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("config file %s: unknown key(s) %s (known: %s)", path, strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	return out, nil
}

// choiceValue is a string flag restricted to a set of values, so a typo is
// refused while parsing (exit 2) instead of surfacing later.
type choiceValue struct {
	value   string
	choices []string
	// aliases map other accepted spellings to a choice (true → on).
	aliases map[string]string
}

func newChoice(def string, choices ...string) *choiceValue {
	return &choiceValue{value: def, choices: choices}
}

// newOnOff is a choice of on and off that also takes the usual boolean
// spellings, as YAML files and env vars write them.
func newOnOff(def string) *choiceValue {
	v := newChoice(def, "on", "off")
	v.aliases = map[string]string{"true": "on", "1": "on", "yes": "on", "false": "off", "0": "off", "no": "off"}
	return v
}

func (v *choiceValue) String() string { return v.value }
func (v *choiceValue) Type() string   { return strings.Join(v.choices, "|") }

func (v *choiceValue) Set(s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if a, ok := v.aliases[s]; ok {
		s = a
	}
	if !slices.Contains(v.choices, s) {
		return fmt.Errorf("must be one of %s", strings.Join(v.choices, ", "))
	}
	v.value = s
	return nil
}

// logOptions are the logging flags of the server commands.
type logOptions struct {
	format *choiceValue
	level  *choiceValue
}

func addLogFlags(fs *pflag.FlagSet, defaultFormat string) *logOptions {
	o := &logOptions{format: newChoice(defaultFormat, "text", "json"), level: newChoice("info", "debug", "info", "warn", "error")}
	fs.Var(o.format, "log-format", "log format: text (for people) or json (for log pipelines)")
	fs.Var(o.level, "log-level", "minimum log level: debug, info, warn or error")
	configurable(fs, "log-format", "log-level")
	return o
}

// logger builds the slog logger the flags describe, writing to w (stderr:
// stdout is for results).
func (o *logOptions) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(o.level.value)) // the choice guarantees a valid name
	opts := &slog.HandlerOptions{Level: level}
	if o.format.value == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
