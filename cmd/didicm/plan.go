package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/didicm/didicm/plan"
)

func (a *app) planCmd() *cobra.Command {
	var classes, images int
	var activation, input string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show the sampler choice and memory per image for a class count and budget",
		Example: `  didicm plan --classes 10 --memory-budget 2GiB
  didicm plan --classes 100000 --memory-budget 2GiB
  didicm plan --model models/didirn-mnist-7px-5pct.onnx`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := errors.Join(positive("--classes", classes, 0, 1<<30), positive("--images", images, 1, 1<<20)); err != nil {
				return usageError{err}
			}
			if classes == 1 {
				return usageError{errors.New("--classes 1: a classifier needs at least 2 classes")}
			}
			sc := a.cfg.Sampler
			req := plan.Request{NumClasses: classes, Images: images, Steps: sc.Steps, Chains: sc.Chains,
				Budget: size(sc.MemoryBudget), Force: sc.Name}
			if cmd.Flags().Changed("model") || classes == 0 {
				m, err := a.openModel(a.cfg)
				if err != nil {
					return err
				}
				defer m.Close()
				req.NumClasses, req.InputBytes = m.NumClasses(), int64(4*m.Metadata().InputSize())
				act, err := m.ProbeActivation(cmd.Context())
				if err != nil {
					return fmt.Errorf("probe activation memory: %w", err)
				}
				req.ActivationBytes = act
			}
			if activation != "" {
				if err := sizeErr("--activation-bytes", activation); err != nil {
					return usageError{err}
				}
				req.ActivationBytes = size(activation)
			}
			if input != "" {
				if err := sizeErr("--input-bytes", input); err != nil {
					return usageError{err}
				}
				req.InputBytes = size(input)
			}
			p, err := plan.Decide(req)
			if err != nil && !errors.Is(err, plan.ErrNoFit) {
				return err
			}
			fmt.Fprint(a.stdout, p.String()) // with ErrNoFit: the costs that did not fit
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&classes, "classes", 0, "class count K (default: read from the model)")
	f.IntVar(&images, "images", 64, "images per batch")
	f.StringVar(&activation, "activation-bytes", "", "model activations per row (default: probe the model, or 4MiB without one)")
	f.StringVar(&input, "input-bytes", "", "bytes of one preprocessed image (default: from the model, or 28*28*4)")
	addSamplerFlags(f)
	return cmd
}
