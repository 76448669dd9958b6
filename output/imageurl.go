package output

import (
	"context"
	"fmt"
	neturl "net/url"
	"strings"
	"time"

	"gocloud.dev/blob"
)

// imageURLs makes the URL a person's browser opens for an input object:
// from a template, or presigned by the input bucket. URLs are never
// logged: a presigned one is a credential until it expires.
type imageURLs struct {
	template string
	bucket   *blob.Bucket // for presigned URLs
	expiry   time.Duration
}

// templateKey is what an image URL template holds in the key's place.
const templateKey = "{key}"

func newImageURLs(ctx context.Context, inputURL, template string, expiry time.Duration) (*imageURLs, error) {
	if template != "" {
		if !strings.Contains(template, templateKey) {
			return nil, fmt.Errorf("image URL template %q: want %s where the object key goes", template, templateKey)
		}
		return &imageURLs{template: template}, nil
	}
	u, err := neturl.Parse(inputURL)
	if err != nil || (u.Scheme != "s3" && u.Scheme != "gs" && u.Scheme != "azblob") {
		return nil, fmt.Errorf("the input is not a bucket that presigns URLs (s3, gs, azblob): give an image URL template with %s", templateKey)
	}
	b, err := blob.OpenBucket(ctx, inputURL)
	if err != nil {
		return nil, fmt.Errorf("open the input bucket: %w", err)
	}
	return &imageURLs{bucket: b, expiry: expiry}, nil
}

// of returns object's URL.
func (u *imageURLs) of(ctx context.Context, object string) (string, error) {
	if u.bucket == nil {
		return fillTemplate(u.template, object), nil
	}
	s, err := u.bucket.SignedURL(ctx, object, &blob.SignedURLOptions{Expiry: u.expiry})
	if err != nil {
		return "", fmt.Errorf("presign the image URL of %q: %w", object, err)
	}
	return s, nil
}

func (u *imageURLs) close() {
	if u.bucket != nil {
		_ = u.bucket.Close()
	}
}

// fillTemplate puts object into template: query-escaped after a '?',
// else path-escaped segment by segment.
func fillTemplate(template, object string) string {
	at := strings.Index(template, templateKey)
	var esc string
	if q := strings.IndexByte(template, '?'); q >= 0 && q < at {
		esc = neturl.QueryEscape(object)
	} else {
		segs := strings.Split(object, "/")
		for i, s := range segs {
			segs[i] = neturl.PathEscape(s)
		}
		esc = strings.Join(segs, "/")
	}
	return template[:at] + esc + template[at+len(templateKey):]
}
