import gzip
import os
import struct

import numpy as np
import pytest
import torch

from didicm_train import data as D


def _write_idx(path, arr):
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_read_idx_round_trips_and_rejects_bad_files(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(str(tmp_path / "a.gz"), arr)
    assert np.array_equal(D.read_idx(str(tmp_path / "a.gz")), arr)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x05abc")
    with pytest.raises(ValueError, match="bad magic"):
        D.read_idx(str(tmp_path / "bad"))
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05abc")
    with pytest.raises(ValueError, match="holds 3 elements"):
        D.read_idx(str(tmp_path / "short"))


def test_mnist_from_the_go_module_has_the_known_shapes():
    ds = D.load_mnist("test")
    assert tuple(ds.images.shape) == (10000, 1, 28, 28)
    assert ds.images.min() >= 0 and ds.images.max() <= 1
    assert torch.bincount(ds.labels).tolist()[:3] == [980, 1135, 1032]


def test_balanced_fraction_is_balanced_and_seeded():
    labels = torch.tensor([0] * 100 + [1] * 50 + [2] * 10)
    a = D.balanced_fraction(labels, 0.1, seed=5)
    assert torch.bincount(labels[a]).tolist() == [10, 5, 1]
    assert torch.equal(a, D.balanced_fraction(labels, 0.1, seed=5))
    assert not torch.equal(a, D.balanced_fraction(labels, 0.1, seed=6))
    with pytest.raises(ValueError):
        D.balanced_fraction(labels, 0, seed=1)


def test_degrade_area_downsamples_then_restores_the_size():
    x = torch.zeros(1, 1, 28, 28)
    x[..., :4, :4] = 1.0  # one 4x4 block becomes one pixel at 7x7
    y = D.degrade(x, 7)
    assert y.shape == x.shape
    small = torch.nn.functional.interpolate(y, size=(7, 7), mode="area")
    assert small[0, 0, 0, 0].item() > 0.5
    assert torch.equal(D.degrade(x, 28), x)
    flat = torch.full((2, 1, 28, 28), 0.3)
    assert torch.allclose(D.degrade(flat, 5), flat, atol=1e-6)


def test_load_folder_reads_one_subfolder_per_class_and_skips_broken_files(tmp_path):
    from PIL import Image

    for ci, name in enumerate(["cat", "dog"]):
        os.makedirs(tmp_path / name / "nested")
        for i in range(3):
            Image.fromarray(np.full((10, 12, 3), 40 * ci + i, dtype=np.uint8)).save(tmp_path / name / "nested" / f"{i}.png")
    (tmp_path / "dog" / "broken.jpg").write_bytes(b"not a jpeg")
    ds = D.load_folder(str(tmp_path), 8, 1)
    assert ds.classes == ["cat", "dog"]
    assert tuple(ds.images.shape) == (6, 1, 8, 8)
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1]


def _photo(h, w, seed=0):
    g = np.random.default_rng(seed)
    return np.clip(np.linspace(0, 255, w)[None, :, None] + g.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("size,drafted", [(224, (270, 480)), (64, (135, 240)), (600, (1080, 1920))])
def test_read_image_drafts_a_jpeg_to_the_largest_dct_scale_that_covers_the_input(tmp_path, size, drafted):
    from PIL import Image

    Image.fromarray(_photo(1080, 1920)).save(tmp_path / "a.jpg", quality=90)
    Image.fromarray(_photo(1080, 1920)).save(tmp_path / "a.png")
    rgb = D.read_image(str(tmp_path / "a.jpg"), size, 3)
    assert rgb.shape == (3,) + drafted and rgb.dtype == np.float32
    assert 0 <= rgb.min() and rgb.max() <= 1
    assert D.read_image(str(tmp_path / "a.jpg"), size, 1).shape == (1,) + drafted
    assert D.read_image(str(tmp_path / "a.png"), size, 3).shape == (3, 1080, 1920)


def test_read_image_applies_exif_orientation(tmp_path):
    from PIL import Image

    arr = np.zeros((32, 64, 3), dtype=np.uint8)  # left half red, right half blue
    arr[:, :32] = [255, 0, 0]
    arr[:, 32:] = [0, 0, 255]
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display: left becomes top
    Image.fromarray(arr).save(tmp_path / "r.jpg", quality=95, exif=exif)
    x = D.read_image(str(tmp_path / "r.jpg"), 16, 3)  # drafted at 1/2, then rotated
    assert x.shape == (3, 32, 16)
    assert x[0, :12].mean() > 0.9 and x[2, :12].mean() < 0.1
    assert x[2, -12:].mean() > 0.9 and x[0, -12:].mean() < 0.1
