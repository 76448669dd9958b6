package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/didicm/didicm/ort"
)

func (a *app) modelCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "model", Short: "Work with model files"}
	var asJSON bool
	inspect := &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Validate a model against the contract and print its metadata",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := ort.Open(args[0], a.cfg.runtime(), a.log)
			if err != nil {
				return err
			}
			defer m.Close()
			md := m.Metadata()
			sha, ortVersion, provider := m.Identity()
			info := map[string]any{
				"path": m.Path(), "sha256": sha, "onnxruntime": ortVersion, "provider": provider,
				"kind": md.Kind, "layout": md.Layout, "num_classes": md.NumClasses(), "class_names": md.ClassNames,
				"input": map[string]any{"channels": md.Channels, "height": md.Height, "width": md.Width, "color_mode": md.ColorMode,
					"mean": md.Mean, "std": md.Std},
				"schedule": md.Schedule, "schedule_eps": md.ScheduleEps, "degradation": md.Degradation,
				"data_fraction": md.DataFraction, "training": md.Training, "format_version": md.FormatVersion,
				"recommended_steps": md.RecommendedSteps, "min_steps": md.MinSteps,
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			names := md.ClassNames
			if len(names) > 12 {
				names = append(append([]string{}, names[:12]...), fmt.Sprintf("… (%d more)", len(md.ClassNames)-12))
			}
			fmt.Fprintf(a.stdout, "model        %s\nsha256       %s\nkind         %s (%s)\nclasses      %d: %s\n",
				m.Path(), sha, md.Kind, md.Layout, md.NumClasses(), strings.Join(names, " "))
			fmt.Fprintf(a.stdout, "input        %dx%dx%d %s, mean %v std %v\n", md.Channels, md.Height, md.Width, md.ColorMode, md.Mean, md.Std)
			fmt.Fprintf(a.stdout, "trained for  degradation %s r=%d, data fraction %g\n", md.Degradation.Kind, md.Degradation.Resolution, md.DataFraction)
			fmt.Fprintf(a.stdout, "schedule     %s eps=%g\n", md.Schedule, md.ScheduleEps)
			if md.Kind == "score" {
				fmt.Fprintf(a.stdout, "steps        %s\n", stepAdvice(md.RecommendedSteps, md.MinSteps))
			}
			fmt.Fprintf(a.stdout, "runtime      onnxruntime %s, %s\ntraining     %s\n", ortVersion, provider, md.Training)
			return nil
		},
	}
	inspect.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(inspect)
	return cmd
}

// stepAdvice says what a score model's metadata advises on T (0: no advice).
func stepAdvice(recommended, minimum int) string {
	switch {
	case recommended == 0 && minimum == 0:
		return "no advice in the model (the sampler's default applies)"
	case minimum == 0:
		return fmt.Sprintf("recommended T=%d", recommended)
	case recommended == 0:
		return fmt.Sprintf("minimum T=%d", minimum)
	}
	return fmt.Sprintf("recommended T=%d, minimum T=%d", recommended, minimum)
}
