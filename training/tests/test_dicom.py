import json
import os

import numpy as np
import onnx
import pytest

from didicm_train import __main__ as cli
from didicm_train import data as D
from didicm_train import dicom as M

pydicom = pytest.importorskip("pydicom")


def _write(path, arr, photometric="MONOCHROME2", bits=None, part10=True, **attrs):
    """Writes arr [frames, rows, cols(, samples)] as a native DICOM file."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = arr.shape[1:3]
    ds.SamplesPerPixel = arr.shape[3] if arr.ndim == 4 else 1
    ds.PhotometricInterpretation = photometric
    if ds.SamplesPerPixel > 1:
        ds.PlanarConfiguration = 0
    if arr.shape[0] > 1:
        ds.NumberOfFrames = arr.shape[0]
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = int(arr.dtype.kind == "i")
    for k, v in attrs.items():
        setattr(ds, k, v)
    ds.PixelData = arr.tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    if part10:
        ds.save_as(path, write_like_original=False)
    else:  # implicit VR, no preamble, no file meta
        bare = pydicom.Dataset(ds)
        bare.is_little_endian, bare.is_implicit_VR = True, True
        bare.save_as(path, write_like_original=True)
    return path


def _ct(tmp_path, name="ct", **attrs):
    stored = np.array([[[0, 1024, 2000], [-1000, 1064, 3000]]], dtype=np.int16)  # HU = stored - 1024
    return _write(str(tmp_path / name), stored, bits=16, RescaleSlope=1, RescaleIntercept=-1024, **attrs)


def test_frames_are_in_modality_units_and_the_window_is_dicoms_linear_function(tmp_path):
    path = _ct(tmp_path)
    frames = M.read_frames(path)
    assert len(frames) == 1 and frames[0].dtype == np.float64
    assert frames[0].tolist() == [[-1024, 0, 976], [-2024, 40, 1976]]
    ds = pydicom.dcmread(path)
    u = M.to_unit(frames[0], ds, {"kind": "window", "center": 40, "width": 400})
    assert u.dtype == np.float32
    assert u[0, 1] == np.float32((0 - 39.5) / 399 + 0.5)
    assert u[1, 1] == np.float32(0.5 + 0.5 / 399)
    assert u[0, 0] == 0 and u[0, 2] == 1 and u[1, 0] == 0
    assert M.window(np.array([39.0, 40.0]), 40, 1).tolist() == [0, 1]


def test_file_window_takes_the_first_value_and_falls_back_to_minmax(tmp_path):
    path = _ct(tmp_path, WindowCenter=[40, 300], WindowWidth=[400, 1500])
    ds = pydicom.dcmread(path)
    frame = M.read_frames(path)[0]
    u = M.to_unit(frame, ds, {"kind": "file_window"})
    assert np.array_equal(u, M.to_unit(frame, ds, {"kind": "window", "center": 40, "width": 400}))
    plain = _ct(tmp_path, "plain")
    u = M.to_unit(frame, pydicom.dcmread(plain), {"kind": "file_window"})
    assert np.array_equal(u, M.to_unit(frame, ds, {"kind": "minmax"}))


def test_minmax_is_per_frame_and_monochrome1_is_inverted(tmp_path):
    arr = np.stack([np.arange(12, dtype=np.uint8).reshape(3, 4) * 10, np.full((3, 4), 7, dtype=np.uint8)])
    m2 = _write(str(tmp_path / "m2"), arr)
    m1 = _write(str(tmp_path / "m1"), arr, photometric="MONOCHROME1")
    a, b = M.read_frames(m2), M.read_frames(m1)
    u2 = [M.to_unit(f, pydicom.dcmread(m2), {"kind": "minmax"}) for f in a]
    u1 = [M.to_unit(f, pydicom.dcmread(m1), {"kind": "minmax"}) for f in b]
    assert u2[0][0, 0] == 0 and u2[0][2, 3] == 1 and u2[0][0, 1] == np.float32(10 / 110)
    assert u2[1].tolist() == [[0] * 4] * 3
    assert np.allclose(u1[0], 1 - u2[0], atol=1e-7) and u1[0][0, 1] == np.float32(1 - 10 / 110)
    assert u1[1].tolist() == [[1] * 4] * 3


def test_bits_stored_masks_the_unused_high_bits_and_extends_the_sign(tmp_path):
    raw = np.array([[[0x0FFF, 0x0800, 0xF7FF, 0x1001]]], dtype=np.uint16)
    path = _write(str(tmp_path / "s12"), raw.view(np.int16), bits=12)
    assert M.read_frames(path)[0].tolist() == [[-1, -2048, 2047, 1]]
    path = _write(str(tmp_path / "u12"), raw, bits=12)
    assert M.read_frames(path)[0].tolist() == [[4095, 2048, 2047, 1]]


def test_rgb_is_divided_by_the_largest_sample_and_converted_to_grey(tmp_path):
    arr = np.zeros((1, 4, 6, 3), dtype=np.uint8)
    arr[..., 0], arr[..., 1], arr[..., 2] = 200, 100, 50
    path = _write(str(tmp_path / "rgb"), arr, photometric="RGB")
    frame = M.read_frames(path)[0]
    assert frame.shape == (4, 6, 3)
    u = M.to_unit(frame, pydicom.dcmread(path), {"kind": "window", "center": 0, "width": 2})
    assert u[0, 0].tolist() == [np.float32(200 / 255), np.float32(100 / 255), np.float32(50 / 255)]
    grey = M.read_dicom(path, 3, 1)[0]
    assert grey.shape == (1, 3, 3)
    assert grey[0, 0, 0].item() == pytest.approx((0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255, abs=1e-6)
    assert M.read_dicom(path, 8, 3)[0].shape == (3, 8, 8)


def test_ybr_and_palette_colour_become_rgb(tmp_path):
    from pydicom.pixel_data_handlers.util import convert_color_space

    rgb = np.zeros((1, 2, 4, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 250, 20, 120
    ybr = _write(str(tmp_path / "ybr"), convert_color_space(rgb, "RGB", "YBR_FULL"), photometric="YBR_FULL")
    assert np.abs(M.read_frames(ybr)[0] - rgb[0]).max() <= 1
    lut = {f"{c}PaletteColorLookupTableDescriptor": [4, 0, 16] for c in ("Red", "Green", "Blue")}
    for c, v in [("Red", [0, 65535, 0, 1]), ("Green", [0, 0, 65535, 2]), ("Blue", [65535, 0, 0, 3])]:
        lut[f"{c}PaletteColorLookupTableData"] = np.array(v, dtype="<u2").tobytes()
    path = _write(str(tmp_path / "pal"), np.array([[[0, 1, 2, 3]]], dtype=np.uint8), photometric="PALETTE COLOR", **lut)
    frame = M.read_frames(path)[0]
    assert frame.tolist() == [[[0, 0, 65535], [65535, 0, 0], [0, 65535, 0], [1, 2, 3]]]
    assert M.to_unit(frame, pydicom.dcmread(path), M.DEFAULT_INTENSITY)[0, 0].tolist() == [0, 0, 1]


def test_multi_frame_gives_one_tensor_per_frame(tmp_path):
    arr = np.arange(3 * 5 * 7, dtype=np.uint16).reshape(3, 5, 7) * 100
    path = _write(str(tmp_path / "mf"), arr)
    frames = M.read_dicom(path, 4, 3)
    assert len(frames) == 3 and all(f.shape == (3, 4, 4) for f in frames)
    assert all(f.min() >= 0 and f.max() <= 1 for f in frames)


def test_detection_is_by_content_and_a_bare_dataset_is_accepted(tmp_path):
    from PIL import Image

    part10 = _ct(tmp_path, "1.2.826.0.1.3680043.8.498.1")
    bare = _write(str(tmp_path / "bare"), np.full((1, 2, 3), 9, dtype=np.uint16), part10=False)
    Image.fromarray(np.zeros((4, 4), dtype=np.uint8)).save(tmp_path / "p.png")
    (tmp_path / "text").write_bytes(b"\x08\x00 not a dataset" * 20)
    assert M.is_dicom(part10) and M.is_dicom(bare)
    assert not M.is_dicom(str(tmp_path / "p.png")) and not M.is_dicom(str(tmp_path / "text"))
    assert M.read_frames(bare)[0].tolist() == [[9, 9, 9], [9, 9, 9]]


def test_oversized_pixel_data_is_refused_before_decoding(tmp_path):
    path = _write(str(tmp_path / "big"), np.zeros((1, 2, 2), dtype=np.uint16))
    ds = pydicom.dcmread(path)
    ds.Rows, ds.Columns, ds.NumberOfFrames = 16384, 16384, 3
    ds.save_as(path)
    with pytest.raises(ValueError, match="1 GiB limit"):
        M.read_frames(path)


def test_bits_reads_a_grey_dicom_as_a_png_of_the_same_samples(tmp_path):
    from PIL import Image

    arr = np.array([[[3, 9, 128, 200, 17, 37]]], dtype=np.uint8)  # not 0 to 255: not minmax
    Image.fromarray(arr[0]).save(tmp_path / "p.png")
    path = _write(str(tmp_path / "g8"), arr)
    u = M.to_unit(M.read_frames(path)[0], pydicom.dcmread(path), {"kind": "bits"})
    png = D.read_image(str(tmp_path / "p.png"), 6, 1)[0]
    assert u.tolist() == png.tolist() == (arr[0] / 255).astype(np.float32).tolist()
    assert M.read_dicom(path, 6, 1)[0].equal(M.read_dicom(path, 6, 1, {"kind": "bits"})[0])  # the default


def test_bits_divides_the_stored_value_by_its_depth_whatever_the_rescale(tmp_path):
    stored = np.array([[[-1000, -1, 0, 1500]]], dtype=np.int16)  # 12 bits, signed
    plain = _write(str(tmp_path / "plain"), stored, bits=12)
    ct = _write(str(tmp_path / "ct"), stored, bits=12, RescaleSlope=2, RescaleIntercept=-1024)
    m1 = _write(str(tmp_path / "m1"), stored, photometric="MONOCHROME1", bits=12, RescaleSlope=0.5)
    want = (stored[0] + 2048) / 4095
    for path in (plain, ct):
        u = M.to_unit(M.read_frames(path)[0], pydicom.dcmread(path), {"kind": "bits"})
        assert np.allclose(u, want, atol=1e-7)
    u = M.to_unit(M.read_frames(m1)[0], pydicom.dcmread(m1), {"kind": "bits"})
    assert np.allclose(u, 1 - want, atol=1e-7)


def test_parse_intensity():
    assert M.parse_intensity('{"kind": "bits"}') == {"kind": "bits"}
    assert M.parse_intensity('{"kind": "window", "center": 40, "width": 400}')["width"] == 400
    for bad in ['{"kind": "window", "center": 40}', '{"kind": "window", "center": 0, "width": 0.5}', '{"kind": "x"}']:
        with pytest.raises(ValueError):
            M.parse_intensity(bad)


def _folder(root):
    for ci, name in enumerate(["a", "b"]):
        os.makedirs(root / name)
        for i in range(2):
            _write(str(root / name / f"1.2.3.{ci}.{i}"), np.full((1, 6, 5), 100 * ci + 10 * i, dtype=np.int16) +
                   np.arange(5, dtype=np.int16), bits=16, RescaleIntercept=-1024, RescaleSlope=1)
    return root


def test_load_folder_finds_dicom_files_without_extension(tmp_path):
    root = _folder(tmp_path / "train")
    _write(str(root / "b" / "mf"), np.zeros((3, 4, 4), dtype=np.uint8))
    (root / "a" / "broken").write_bytes(open(root / "a" / "1.2.3.0.0", "rb").read()[:-20])
    ds = D.load_folder(str(root), 8, 1, {"kind": "window", "center": -1000, "width": 200})
    assert tuple(ds.images.shape) == (7, 1, 8, 8)
    assert ds.labels.tolist() == [0, 0, 1, 1, 1, 1, 1]
    spec = {"kind": "window", "center": -1000, "width": 200}
    assert ds.images[0].equal(M.read_dicom(str(root / "a" / "1.2.3.0.0"), 8, 1, spec)[0])
    assert ds.images[6].equal(M.read_dicom(str(root / "b" / "mf"), 8, 1, spec)[2])


def _export_metadata(tmp_path, data, *extra):
    ck, out = str(tmp_path / "m.pt"), str(tmp_path / "m.onnx")
    cli.main(["train", "--kind", "classifier", "--data", data, "--steps", "2", "--batch", "4", *extra, "--out", ck])
    cli.main(["export", "--checkpoint", ck, "--out", out, "--parity-images", "2"])
    return {p.key: p.value for p in onnx.load(out).metadata_props}


def test_a_model_trained_without_dicom_declares_no_intensity_and_one_with_dicom_bits(tmp_path):
    from PIL import Image

    for split in ("train", "test"):
        for ci, name in enumerate(["a", "b"]):
            os.makedirs(tmp_path / "png" / split / name)
            for i in range(2):
                Image.fromarray(np.full((6, 5), 100 * ci + 10 * i, dtype=np.uint8)).save(
                    tmp_path / "png" / split / name / f"{i}.png")
    meta = _export_metadata(tmp_path, f"{tmp_path / 'png' / 'train'}:{tmp_path / 'png' / 'test'}")
    assert "didicm.intensity" not in meta
    train, test = _folder(tmp_path / "train"), _folder(tmp_path / "test")
    meta = _export_metadata(tmp_path, f"{train}:{test}")
    assert json.loads(meta["didicm.intensity"]) == {"kind": "bits"}


def test_train_writes_the_intensity_into_the_export_metadata(tmp_path):
    train, test = _folder(tmp_path / "train"), _folder(tmp_path / "test")
    ck, out = str(tmp_path / "m.pt"), str(tmp_path / "m.onnx")
    spec = '{"kind": "window", "center": -950, "width": 100}'
    cli.main(["train", "--kind", "classifier", "--data", f"{train}:{test}", "--steps", "2", "--batch", "4",
              "--intensity", spec, "--out", ck])
    cli.main(["export", "--checkpoint", ck, "--out", out, "--parity-images", "2"])
    meta = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert json.loads(meta["didicm.intensity"]) == json.loads(spec)
