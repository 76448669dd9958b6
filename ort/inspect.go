package ort

import (
	"fmt"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/didicm/didicm/modelmeta"
)

// ContractError names what in a model file breaks the ONNX contract.
type ContractError struct {
	Path, Problem string
}

func (e *ContractError) Error() string { return fmt.Sprintf("model %q: %s", e.Path, e.Problem) }

// Inspect reads a model file's metadata and checks its inputs and outputs
// against the contract (names, element types, ranks, sizes from metadata).
// The library must be loaded (LoadLibrary).
func Inspect(path string) (*modelmeta.Metadata, error) {
	md, err := ortgo.GetModelMetadata(path)
	if err != nil {
		return nil, &ContractError{Path: path, Problem: "not a loadable ONNX model: " + err.Error()}
	}
	defer md.Destroy()
	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return nil, &ContractError{Path: path, Problem: "read metadata: " + err.Error()}
	}
	props := map[string]string{}
	for _, k := range keys {
		v, _, err := md.LookupCustomMetadataMap(k)
		if err != nil {
			return nil, &ContractError{Path: path, Problem: "read metadata " + k + ": " + err.Error()}
		}
		props[k] = v
	}
	meta, err := modelmeta.Parse(props)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", path, err)
	}
	ins, outs, err := ortgo.GetInputOutputInfo(path)
	if err != nil {
		return nil, &ContractError{Path: path, Problem: "read inputs and outputs: " + err.Error()}
	}
	if err := checkIO(meta, ins, outs); err != nil {
		return nil, &ContractError{Path: path, Problem: err.Error()}
	}
	return meta, nil
}

type want struct {
	name string
	typ  ortgo.TensorElementDataType
	dims []int64 // -1: any (the batch axis)
}

func checkIO(m *modelmeta.Metadata, ins, outs []ortgo.InputOutputInfo) error {
	k := int64(m.NumClasses())
	image := want{"image", ortgo.TensorElementDataTypeFloat, []int64{-1, int64(m.Channels), int64(m.Height), int64(m.Width)}}
	wantIn := []want{image}
	wantOut := []want{{"logits", ortgo.TensorElementDataTypeFloat, []int64{-1, k}}}
	if m.Kind == modelmeta.Score {
		wantIn = append(wantIn, want{"label", ortgo.TensorElementDataTypeInt64, []int64{-1}},
			want{"sigma", ortgo.TensorElementDataTypeFloat, []int64{-1}})
		wantOut = []want{{"log_score", ortgo.TensorElementDataTypeFloat, []int64{-1, k}}}
	}
	if err := match("input", wantIn, ins); err != nil {
		return err
	}
	return match("output", wantOut, outs)
}

func match(what string, wants []want, got []ortgo.InputOutputInfo) error {
	if len(got) != len(wants) {
		names := make([]string, len(got))
		for i, g := range got {
			names[i] = g.Name
		}
		return fmt.Errorf("%d %ss %v, the contract for this kind has %d", len(got), what, names, len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if g.Name != w.name {
			return fmt.Errorf("%s %d is named %q, want %q", what, i, g.Name, w.name)
		}
		if g.OrtValueType != ortgo.ONNXTypeTensor || g.DataType != w.typ {
			return fmt.Errorf("%s %q has type %s, want a %s tensor", what, g.Name, g.DataType, w.typ)
		}
		dims := []int64(g.Dimensions)
		if len(dims) != len(w.dims) {
			return fmt.Errorf("%s %q has shape %v, want %v", what, g.Name, dims, w.dims)
		}
		for j, d := range w.dims {
			if d >= 0 && dims[j] != d {
				return fmt.Errorf("%s %q has shape %v, want %v (metadata gives the sizes)", what, g.Name, dims, w.dims)
			}
			if d < 0 && dims[j] != -1 {
				return fmt.Errorf("%s %q has a fixed batch axis (%v); the contract needs it dynamic", what, g.Name, dims)
			}
		}
	}
	return nil
}
