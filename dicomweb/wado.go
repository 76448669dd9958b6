package dicomweb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/didicm/didicm/storage"
)

// DefaultTransferSyntaxes are the syntaxes imaging/dicom decodes in the
// command's build (JPEG-LS, JPEG 2000 and JPEG Extended through its cgo
// codecs): WADO-RS asks for them, Explicit VR Little Endian first.
var DefaultTransferSyntaxes = []string{
	"1.2.840.10008.1.2.1",    // Explicit VR Little Endian
	"1.2.840.10008.1.2",      // Implicit VR Little Endian
	"1.2.840.10008.1.2.1.99", // Deflated Explicit VR Little Endian
	"1.2.840.10008.1.2.2",    // Explicit VR Big Endian
	"1.2.840.10008.1.2.5",    // RLE Lossless
	"1.2.840.10008.1.2.4.50", // JPEG Baseline
	"1.2.840.10008.1.2.4.51", // JPEG Extended (12-bit)
	"1.2.840.10008.1.2.4.57", // JPEG Lossless
	"1.2.840.10008.1.2.4.70", // JPEG Lossless SV1
	"1.2.840.10008.1.2.4.80", // JPEG-LS Lossless
	"1.2.840.10008.1.2.4.81", // JPEG-LS Near-Lossless
	"1.2.840.10008.1.2.4.90", // JPEG 2000 Lossless
	"1.2.840.10008.1.2.4.91", // JPEG 2000
}

// accept is the WADO-RS Accept header: each syntax at q=1 (a server that
// stores an instance in one of them sends it as stored), then "*" (as
// stored, whatever it is) at q=0.1 for a server that cannot transcode.
// Orthanc 1.10's DICOMweb plugin takes the last media range: as stored.
func accept(syntaxes []string) string {
	const dicom = `multipart/related; type="application/dicom"; transfer-syntax=`
	var b strings.Builder
	for _, ts := range syntaxes {
		if ts != "*" {
			b.WriteString(dicom + ts + ", ")
		}
	}
	b.WriteString(dicom + "*; q=0.1")
	return b.String()
}

// partSlack bounds what a multipart answer may hold beyond the instance:
// its boundaries and part headers.
const partSlack = 64 << 10

// RetrieveInstance reads one instance with WADO-RS: the Part 10 bytes of
// the first application/dicom part of the answer (or of a bare
// application/dicom answer), in whatever transfer syntax the service sent.
// Over max bytes (max <= 0: Config.MaxBytes) it returns an error wrapping
// storage.ErrTooLarge, having read at most max+1 of them; a missing
// instance is storage.ErrNotFound.
func (c *Client) RetrieveInstance(ctx context.Context, k Key, max int64) ([]byte, error) {
	if max <= 0 {
		max = c.cfg.MaxBytes
	}
	var data []byte
	r := request{op: "WADO " + k.String(), path: k.path(), accept: c.accept(), identity: true}
	err := c.get(ctx, r, func(resp *http.Response) error {
		var err error
		data, err = readInstance(resp, max)
		return err
	})
	return data, err
}

func (c *Client) accept() string { return accept(c.cfg.TransferSyntaxes) }

// readInstance takes the instance out of a WADO-RS answer.
func readInstance(resp *http.Response, max int64) ([]byte, error) {
	if resp.ContentLength > max+partSlack {
		return nil, fmt.Errorf("answer of %d bytes, limit %d: %w", resp.ContentLength, max, storage.ErrTooLarge)
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("%w: content type: %w", ErrBadResponse, err)
	}
	defer drain(resp.Body)
	switch {
	case mt == "application/dicom":
		return readCapped(resp.Body, max, resp.ContentLength)
	case mt != "multipart/related" || params["boundary"] == "":
		return nil, fmt.Errorf("%w: content type %q, want multipart/related", ErrBadResponse, mt)
	}
	mr := multipart.NewReader(io.LimitReader(resp.Body, max+partSlack), params["boundary"])
	part, err := mr.NextPart()
	if err != nil {
		return nil, fmt.Errorf("%w: first part: %w", ErrBadResponse, err)
	}
	if pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); pt != "" && pt != "application/dicom" &&
		pt != "application/octet-stream" {
		return nil, fmt.Errorf("%w: part of type %q, want application/dicom", ErrBadResponse, pt)
	}
	size, _ := strconv.ParseInt(part.Header.Get("Content-Length"), 10, 64)
	data, err := readCapped(part, max, size)
	if err == nil {
		_, _ = mr.NextPart() // the closing boundary: the connection can be reused
	}
	return data, err
}

// readCapped reads r to its end, failing with storage.ErrTooLarge past max
// bytes; size, when known (> 0), sizes the buffer and is checked first.
func readCapped(r io.Reader, max, size int64) ([]byte, error) {
	if size > max {
		return nil, fmt.Errorf("instance of %d bytes, limit %d: %w", size, max, storage.ErrTooLarge)
	}
	buf := make([]byte, 0, min(max+1, 64<<10))
	if size > 0 {
		buf = make([]byte, 0, size+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), max+1)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, fmt.Errorf("instance over %d bytes: %w", max, storage.ErrTooLarge)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the instance: %w", err)
		}
	}
}

// drain reads what is left of a small answer (a closing boundary, a
// trailing newline), so that the connection goes back to the pool.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 4<<10)) }
