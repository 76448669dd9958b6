package dicomsr

import (
	"path/filepath"
	"strings"

	"github.com/didicm/didicm/modelmeta"
)

// Model is the model a report names: its name and version (TID 4019's
// Algorithm Name and Version), its file's SHA-256, and a code per class.
type Model struct {
	Name, Version, SHA256 string
	// Classes code the classes and ClassNames name them, in class-index
	// order.
	Classes    []Code
	ClassNames []string
}

// ModelOf describes a model from its metadata, its file's path (the name
// when the metadata has none: the file name without .onnx) and its
// SHA-256 (the version when the metadata has none: "sha256:" and its first
// 16 hex digits). A class with a code in didicm.class_codes gets it (its
// meaning defaulting to the class name); any other gets ClassScheme's.
func ModelOf(meta *modelmeta.Metadata, path, sha256 string) Model {
	m := Model{Name: meta.Name, Version: meta.Version, SHA256: sha256, ClassNames: meta.ClassNames}
	if m.Name == "" {
		m.Name = strings.TrimSuffix(filepath.Base(path), ".onnx")
	}
	if m.Name == "" || m.Name == "." {
		m.Name = "didicm model"
	}
	if m.Version == "" {
		m.Version = "sha256:" + classCode(0, "", sha256).SchemeVersion
	}
	for i, name := range meta.ClassNames {
		c := classCode(i, name, sha256)
		if i < len(meta.ClassCodes) && meta.ClassCodes[i] != nil {
			cc := meta.ClassCodes[i]
			c = Code{Value: cc.Value, Scheme: cc.Scheme, SchemeVersion: cc.SchemeVersion, Meaning: cc.Meaning}
			if c.Meaning == "" {
				c.Meaning = name
			}
		}
		m.Classes = append(m.Classes, c)
	}
	return m
}

// class is the code of class i, or a private one when the model has none
// (a record from a job whose model had more classes than this one).
func (m Model) class(i int, name string) Code {
	if i >= 0 && i < len(m.Classes) {
		return m.Classes[i]
	}
	return classCode(i, name, m.SHA256)
}
