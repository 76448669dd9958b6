package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/internal/redact"
)

// version is the module version and, when the build recorded it, the commit.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += " (modified)"
			}
		}
	}
	return v + " " + bi.GoVersion
}

// redactAttr masks credentials in every logged message and value.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Any().(type) {
	case time.Time: // carries no secret; as a string it would lose the handler's RFC 3339 form
	case string:
		a.Value = slog.StringValue(redact.String(v))
	case error:
		a.Value = slog.StringValue(redact.Error(v))
	case fmt.Stringer:
		a.Value = slog.StringValue(redact.String(v.String()))
	}
	return a
}

// plural writes a count with its noun: "1 image", "2,001 images".
func plural(n int, noun string) string {
	s := humanize.Comma(int64(n)) + " " + noun
	switch {
	case n == 1:
	case strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "s") || strings.HasSuffix(noun, "x"):
		s += "es"
	default:
		s += "s"
	}
	return s
}

// app carries what every subcommand shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configFile     string
	cfg            *Config
	log            *slog.Logger
}

// extraCommands are added by files built with a tag (demo.go: -tags demo).
var extraCommands []func(*app) *cobra.Command

// usageError marks errors that exit with code 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// Run executes the command line and returns the exit code: 0 success, 1 a
// failure while running, 2 a usage or configuration error.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "didicm",
		Short:         "Classify image archives with calibrated uncertainty (DiDiCM)",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.PersistentFlags().StringVar(&a.configFile, "config", "", "config file (default ./didicm.yaml if present)")
	configFlag(root.PersistentFlags(), "log.level", "log-level", "debug, info, warn or error")
	configFlag(root.PersistentFlags(), "onnxruntime.library", "onnxruntime-lib", "path of libonnxruntime.so (default: search, see README)")
	configFlag(root.PersistentFlags(), "onnxruntime.provider", "provider", "execution provider: cpu or cuda")
	configFlag(root.PersistentFlags(), "onnxruntime.allow_cpu_fallback", "allow-cpu-fallback", "run on the CPU when cuda cannot be set up")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loadConfig(a.configFile, cmd.Flags())
		if err != nil {
			return usageError{err}
		}
		a.cfg, a.log = cfg, newLogger(stderr, cfg.Log)
		if err := dicomweb.SetCredentials(cfg.DICOMweb.credentials()); err != nil { // validated: cannot fail
			return usageError{err}
		}
		return nil
	}
	root.AddCommand(a.classifyCmd(), a.modelCmd(), a.planCmd(), a.enqueueCmd(), a.workerCmd(), a.statusCmd(), a.retryCmd(), a.reportCmd(), a.monitorCmd(), a.healthCmd(), a.calibrateCmd(), a.reviewCmd(), a.exportCmd(), a.importCmd())
	for mk := range slices.Values(extraCommands) {
		root.AddCommand(mk(a))
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "didicm: interrupted:", redact.Error(err))
		return 130
	}
	fmt.Fprintln(stderr, "didicm:", redact.Error(err))
	var ue usageError
	var ce *ConfigError
	if errors.As(err, &ue) || errors.As(err, &ce) || isCobraUsage(err) {
		return 2
	}
	return 1
}

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newLogger(w io.Writer, c LogConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redactAttr}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
