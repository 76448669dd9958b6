package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/sampler"
)

// DefaultModel is the shipped DiDiRN, used when no model is configured.
const DefaultModel = "models/didirn-mnist-7px-5pct.onnx"

// modelPath is the configured model (model, $DIDICM_MODEL or --model, taken
// as given), or else the shipped default, searched for as the ONNX Runtime
// library is: in the working directory and its parents, then beside the
// executable and in its parents. The error lists where it looked.
func (c *Config) modelPath() (string, error) {
	if c.Model != "" {
		return c.Model, nil
	}
	var looked []string
	for _, start := range searchRoots() {
		for dir := start; ; dir = filepath.Dir(dir) {
			p := filepath.Join(dir, DefaultModel)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
			looked = append(looked, p)
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", &ConfigError{"model", fmt.Sprintf("none configured and the shipped %s is not in any of: %s (set --model or DIDICM_MODEL)",
		DefaultModel, strings.Join(looked, ", "))}
}

// searchRoots are the working directory and the executable's folder.
func searchRoots() []string {
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			roots = append(roots, filepath.Dir(exe))
		}
	}
	return roots
}

// steps is T for a score model: sampler.steps, or the model's recommended
// T when it is 0 (or sampler.DefaultSteps for a model without one). Below
// the model's minimum it is refused unless sampler.force_steps is set.
func (c *Config) steps(meta *modelmeta.Metadata) (int, error) {
	t := c.Sampler.Steps
	switch {
	case t == 0 && meta.RecommendedSteps > 0:
		t = meta.RecommendedSteps
	case t == 0:
		t = sampler.DefaultSteps
	}
	if meta.Kind == modelmeta.Score && t < meta.MinSteps && !c.Sampler.ForceSteps {
		return 0, &ConfigError{"sampler.steps", fmt.Sprintf("T=%d is below this model's minimum of %d (recommended %d; see its model card); "+
			"set --force-steps to run it anyway", t, meta.MinSteps, meta.RecommendedSteps)}
	}
	return t, nil
}

// openModel loads the configured model into ONNX Runtime. A model whose
// metadata or inputs break the contract (such as two classes of one name)
// is a configuration error (exit 2), as in inspectModel; `model inspect`,
// whose verdict on the model it is given is its result, exits 1 instead.
func (a *app) openModel(cfg *Config) (*ort.Model, error) {
	path, err := cfg.modelPath()
	if err != nil {
		return nil, err
	}
	m, err := ort.Open(path, cfg.runtime(), a.log)
	var me *modelmeta.Error
	var ce *ort.ContractError
	if errors.As(err, &me) || errors.As(err, &ce) {
		return nil, &ConfigError{"model", err.Error()}
	}
	return m, err
}

// inspectModel reads the configured model's metadata and checks its
// contract without starting a session, for commands that only name the
// model (enqueue). A missing or unloadable model is a configuration error.
func (a *app) inspectModel(cfg *Config) (path, sha string, meta *modelmeta.Metadata, err error) {
	if path, err = cfg.modelPath(); err != nil {
		return "", "", nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return "", "", nil, &ConfigError{"model", err.Error()}
	}
	if _, _, err := ort.LoadLibrary(cfg.ONNXRuntime.Library, nil); err != nil {
		return "", "", nil, err
	}
	if meta, err = ort.Inspect(path); err != nil {
		return "", "", nil, &ConfigError{"model", err.Error()}
	}
	if sha, err = modelmeta.FileSHA256(path); err != nil {
		return "", "", nil, &ConfigError{"model", err.Error()}
	}
	return path, sha, meta, nil
}
