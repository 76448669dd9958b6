package redact

import (
	"strings"
	"testing"
)

func TestSecretsAreMaskedWhereverTheyAppear(t *testing.T) {
	cases := []struct{ name, in, secret string }{
		{"a redis password", "redis://:hunter2@redis:6379/0", "hunter2"},
		{"a user and password", "redis://default:hunter2@redis:6379", "hunter2"},
		{"a URL inside an error", `dial redis "redis://:hunter2@10.0.0.1:6379": connection refused`, "hunter2"},
		{"an S3 secret in the query", "s3://bucket?region=x&secret_key=AKIAsecret&endpoint=http://h:9000", "AKIAsecret"},
		{"a presigned signature", "https://h/b/k?X-Amz-Signature=deadbeef&X-Amz-Expires=60", "deadbeef"},
		{"a DSN pair", "connect host=db password=hunter2 sslmode=disable", "hunter2"},
		{"an unparsable URL", "redis://:hunter2@host:1%zz", "hunter2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := String(c.in)
			if strings.Contains(got, c.secret) {
				t.Fatalf("%q printed as %q", c.in, got)
			}
			if !strings.Contains(got, Mask) {
				t.Fatalf("%q: no mask in %q", c.in, got)
			}
		})
	}
}

func TestTextWithoutSecretsIsUnchanged(t *testing.T) {
	for _, s := range []string{"redis://redis:6379/0", "s3://bucket?region=eu-west-1&use_path_style=true",
		"file:///data/results?create_dir=true", "job night-1 batch 3: read \"a=b.png\": not found", "plain words"} {
		if got := String(s); got != s {
			t.Errorf("%q changed to %q", s, got)
		}
	}
}
