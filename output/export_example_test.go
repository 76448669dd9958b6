package output_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/didicm/didicm/output"
)

// A Label Studio annotator becomes a reviewer named by email, or by user ID.
func ExampleAnnotatorName() {
	fmt.Println(output.AnnotatorName(json.RawMessage(`{"id":3,"email":"carla@example.org"}`)))
	fmt.Println(output.AnnotatorName(json.RawMessage(`7`)))
	// Output:
	// carla_example.org
	// labelstudio-7
}

// An export writes its files through a Dest: a local folder here, or a
// folder in a bucket (s3://bucket/exports/night?region=eu-west-1).
func ExampleOpenDest() {
	dir, _ := os.MkdirTemp("", "export")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	dest, err := output.OpenDest(ctx, filepath.Join(dir, "night"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dest.Close()
	err = dest.Write(ctx, output.LabelsFile, "text/csv", func(w io.Writer) error {
		_, err := io.WriteString(w, "key,label,reviewer,decided_at\n")
		return err
	})
	data, _ := os.ReadFile(filepath.Join(dir, "night", output.LabelsFile))
	fmt.Print(string(data), err)
	// Output:
	// key,label,reviewer,decided_at
	// <nil>
}
