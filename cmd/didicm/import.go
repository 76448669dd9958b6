package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
)

func (a *app) importCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Bring decisions made in a labelling tool back into a job's reviews",
	}
	cmd.AddCommand(a.importLabelStudioCmd())
	return cmd
}

func (a *app) importLabelStudioCmd() *cobra.Command {
	var reviewer string
	cmd := &cobra.Command{
		Use:   "labelstudio FILE",
		Short: "Store a Label Studio JSON export of an `export --to labelstudio` project as review decisions",
		Long: `Reads FILE, a Label Studio project's export in its JSON format, and stores each
annotation as a decision of the job (--job, --output) in a review session of its
annotator, as the review page stores its own: a choice of our class is accept, another
class is class, a skipped task is unsure, each at the annotation's time. The annotator is
named by the user's email (characters a reviewer's name cannot hold become '_') or
labelstudio-ID; --reviewer names them all. Exports, the review page and calibrate then
see these decisions with everyone else's.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			j := a.cfg.Job
			if j.ID == "" || j.OutputURL == "" {
				return usageError{errors.New("import needs --job and --output")}
			}
			if reviewer != "" {
				if err := jobs.ValidReviewer(reviewer); err != nil {
					return usageError{fmt.Errorf("%w (--reviewer)", err)}
				}
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			store, err := jobs.OpenStore(cmd.Context(), j.ref())
			if err != nil {
				return err
			}
			defer store.Close()
			job, err := output.Open(cmd.Context(), store)
			if err != nil {
				return err
			}
			n, err := output.ImportLabelStudio(cmd.Context(), job, f, output.ImportOptions{Reviewer: reviewer})
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			fmt.Fprintf(a.stdout, "job %s: %d decisions from %s (%d annotations without a class choice, %d of images not in the review list)\n",
				j.ID, n.Decisions, strings.Join(n.Reviewers, ", "), n.Empty, n.Unknown)
			return nil
		},
	}
	addJobFlags(cmd.Flags())
	cmd.Flags().StringVar(&reviewer, "reviewer", "", "the reviewer every decision is stored as (default: each annotator)")
	return cmd
}
