package output

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/internal/redact"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/recordkey"
	"github.com/didicm/didicm/source"
)

// placer puts labelled images into the folder.
type placer struct {
	dir       string // the export folder
	src       source.Source
	local     string // the input bucket's folder when it is file://, else ""
	root      string // local with its symbolic links resolved
	lim       imaging.Limits
	intensity imaging.Intensity
	known     map[string]bool // the job's class names; nil: any
}

func newPlacer(ctx context.Context, spec jobs.Spec, dir string, lim imaging.Limits, t imaging.Intensity) (*placer, error) {
	src, err := source.Open(ctx, spec.InputURL)
	if err != nil {
		return nil, err
	}
	lim.MaxBytes = cmp.Or(lim.MaxBytes, spec.MaxBytes, imaging.DefaultMaxBytes)
	p := &placer{dir: dir, src: src, lim: lim, intensity: t}
	if u, err := neturl.Parse(spec.InputURL); err == nil && u.Scheme == "file" {
		p.local = u.Path
		p.root, _ = filepath.EvalSymlinks(u.Path)
	}
	if len(spec.ClassNames) > 0 {
		p.known = map[string]bool{}
		for _, c := range spec.ClassNames {
			p.known[c] = true
		}
	}
	return p, nil
}

func (p *placer) close() { _ = p.src.Close() }

// place writes one labelled image and returns its manifest row: Skipped
// when the image cannot be written (gone from the input, unreadable, a
// video frame). Only a failure to write the folder is an error.
func (p *placer) place(ctx context.Context, l Label, folders map[string]string) (ManifestRow, error) {
	k := keyOf(l.Key)
	row := ManifestRow{Key: l.Key, Object: k.Object, Frame: k.Frame, Class: l.Class, DecidedAt: l.DecidedAt(), Decisions: l.Decisions}
	switch {
	case p.known != nil && !p.known[l.Class]:
		row.Skipped = "the class is not one of the job's classes"
	case k.Topic != "" || k.Timed || k.Spanned:
		row.Skipped = "a video or log frame: the folder holds whole files and DICOM frames"
	case k.Frame > 0:
		return p.frame(ctx, row, k, folders[l.Class])
	default:
		return p.file(ctx, row, folders[l.Class])
	}
	return row, nil
}

// frame renders a DICOM frame as PNG.
func (p *placer) frame(ctx context.Context, row ManifestRow, k recordkey.Key, folder string) (ManifestRow, error) {
	data, err := p.src.Read(ctx, k.Object, p.lim.MaxBytes)
	if err != nil {
		return skipped(ctx, row, err)
	}
	img, err := FramePNG(ctx, data, k.Frame, p.intensity, p.lim)
	if err != nil {
		return skipped(ctx, row, err)
	}
	name := fileName(k.Object, fmt.Sprintf("#frame=%d.png", k.Frame))
	row.File, row.How = path.Join(folder, name), "png"
	return row, p.write(row.File, img)
}

// file links or copies a whole file.
func (p *placer) file(ctx context.Context, row ManifestRow, folder string) (ManifestRow, error) {
	if real, ok := p.localFile(row.Object); ok {
		head, err := readHead(real)
		if err == nil {
			row.File, row.How = path.Join(folder, fileName(row.Object, imageExt(row.Object, head))), "link"
			if err = os.MkdirAll(filepath.Dir(p.path(row.File)), 0o755); err != nil {
				return row, err
			}
			err = os.Link(real, p.path(row.File))
			if err == nil || errors.Is(err, os.ErrExist) {
				return row, err
			}
		}
	}
	data, err := p.src.Read(ctx, row.Object, p.lim.MaxBytes)
	if err != nil {
		return skipped(ctx, row, err)
	}
	row.File, row.How = path.Join(folder, fileName(row.Object, imageExt(row.Object, data))), "copy"
	return row, p.write(row.File, data)
}

// skipped notes why an image is not written; the end of ctx is an error.
func skipped(ctx context.Context, row ManifestRow, err error) (ManifestRow, error) {
	if ctx.Err() != nil {
		return row, ctx.Err()
	}
	row.Skipped = redact.Error(err)
	return row, nil
}

// localFile resolves object to a regular file inside the input bucket's
// folder, when the input is a file:// bucket; symbolic links are followed
// only as far as the bucket reads them (inside its folder).
func (p *placer) localFile(object string) (string, bool) {
	rel := filepath.FromSlash(object)
	if p.root == "" || !filepath.IsLocal(rel) {
		return "", false
	}
	real, err := filepath.EvalSymlinks(filepath.Join(p.local, rel))
	if err != nil {
		return "", false
	}
	if r, err := filepath.Rel(p.root, real); err != nil || !filepath.IsLocal(r) {
		return "", false
	}
	fi, err := os.Stat(real)
	return real, err == nil && fi.Mode().IsRegular()
}

func (p *placer) path(rel string) string { return filepath.Join(p.dir, filepath.FromSlash(rel)) }

// write writes a new file of the folder; a name taken twice is an error.
func (p *placer) write(rel string, data []byte) error {
	full := p.path(rel)
	if _, err := os.Lstat(full); err == nil {
		return fmt.Errorf("folder export: %s is written twice", rel)
	}
	return writeLocal(full, func(w io.Writer) error { _, err := w.Write(data); return err })
}

func readHead(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil
	}
	return head[:n], err
}

// fileName is object's path in a class folder plus suffix: the key's own
// path when it is a plain relative path, else a hash of it.
func fileName(object, suffix string) string {
	plain := filepath.IsLocal(filepath.FromSlash(object)) && !strings.ContainsFunc(object, func(r rune) bool {
		return unicode.IsControl(r) || r == '\\'
	})
	if plain {
		return object + suffix
	}
	sum := sha256.Sum256([]byte(object))
	return hex.EncodeToString(sum[:8]) + suffix
}

// trainExts are the extensions the training toolkit reads as images
// (data.IMAGE_EXTS); DICOM files it finds by content.
var trainExts = []string{".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}

// imageExt is the extension to add to object so that the toolkit reads
// it: none when it has one of trainExts or is DICOM, else its format's.
func imageExt(object string, head []byte) string {
	ext := strings.ToLower(path.Ext(object))
	for _, e := range trainExts {
		if ext == e {
			return ""
		}
	}
	if dicom.IsDICOM(head) {
		return ""
	}
	for magic, e := range map[string]string{"\x89PNG": ".png", "\xff\xd8": ".jpg", "GIF8": ".gif", "BM": ".bmp",
		"II*\x00": ".tif", "MM\x00*": ".tif"} {
		if bytes.HasPrefix(head, []byte(magic)) {
			return e
		}
	}
	if len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP" {
		return ".webp"
	}
	return ""
}
