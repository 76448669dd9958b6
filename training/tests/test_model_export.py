import json

import onnx
import pytest
import torch

from didicm_train import __main__ as cli
from didicm_train import export as X
from didicm_train.diffusion import sinusoidal
from didicm_train.model import EMB_DIM, DiDiRN, Classifier, build


@pytest.mark.parametrize("layout,channels,size", [("small", 1, 28), ("resnet18", 3, 64), ("resnet50", 3, 64)])
def test_didirn_and_baseline_shapes_and_zero_at_label(layout, channels, size):
    torch.manual_seed(0)
    m = DiDiRN(layout, channels, 7).eval()
    x = torch.randn(3, channels, size, size)
    label = torch.tensor([0, 6, 3])
    out = m(x, label, torch.tensor([0.1, 1.0, 6.0]))
    assert out.shape == (3, 7)
    assert out[torch.arange(3), label].tolist() == [0.0, 0.0, 0.0]
    assert out.abs().sum() > 0
    assert Classifier(layout, channels, 7).eval()(x).shape == (3, 7)


def test_score_depends_on_label_and_sigma():
    torch.manual_seed(0)
    m = DiDiRN("small", 1, 5).eval()
    x = torch.randn(1, 1, 28, 28)
    a = m(x, torch.tensor([1]), torch.tensor([0.5]))
    b = m(x, torch.tensor([2]), torch.tensor([0.5]))
    c = m(x, torch.tensor([1]), torch.tensor([3.0]))
    assert not torch.allclose(a, b) and not torch.allclose(a, c)


def test_build_rejects_unknown_names():
    with pytest.raises(ValueError, match="layout"):
        build("score", "resnet7", 1, 10)
    with pytest.raises(ValueError, match="kind"):
        build("regressor", "small", 1, 10)


def _io(graph):
    def desc(v):
        t = v.type.tensor_type
        return v.name, t.elem_type, [d.dim_param or d.dim_value for d in t.shape.dim]
    return [desc(v) for v in graph.input], [desc(v) for v in graph.output]


def test_score_export_honours_the_contract(tmp_path):
    path = str(tmp_path / "m.onnx")
    cli.main(["fixture", "--k", "12", "--out", path, "--steps", "1", "2", "--parity-images", "2"])
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ins, outs = _io(m.graph)
    F, I64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
    assert ins == [("image", F, ["batch", 1, 28, 28]), ("label", I64, ["batch"]), ("sigma", F, ["batch"])]
    assert outs == [("log_score", F, ["batch", 12])]
    meta = {p.key: p.value for p in m.metadata_props}
    assert sorted(meta) == sorted("didicm." + k for k in X.METADATA_KEYS)
    assert meta["didicm.kind"] == "score" and meta["didicm.num_classes"] == "12"
    assert len(json.loads(meta["didicm.class_names"])) == 12
    assert json.loads(meta["didicm.norm_mean"]) == [0.5]
    fx = json.load(open(str(tmp_path / "m.parity.json")))
    assert fx["num_classes"] == 12 and len(fx["images"]) == 2 and len(fx["images"][0]) == 784
    assert [c["steps"] for c in fx["cp"]] == [1, 2]
    assert len(fx["cp"][1]["trace"]) == 2
    for row in fx["cp"][1]["posterior"]:
        assert sum(row) == pytest.approx(1, abs=1e-9)


def test_smoke_train_tiny_models_and_export(tmp_path):
    for kind in ["score", "classifier"]:
        ck, out = str(tmp_path / f"{kind}.pt"), str(tmp_path / f"{kind}.onnx")
        cli.main(["train", "--kind", kind, "--resolution", "7", "--fraction", "0.01", "--steps", "3",
                  "--batch", "16", "--out", ck])
        cli.main(["export", "--checkpoint", ck, "--out", out, "--parity-images", "2"])
        m = onnx.load(out)
        meta = {p.key: p.value for p in m.metadata_props}
        assert meta["didicm.kind"] == kind
        assert json.loads(meta["didicm.degradation"]) == {"kind": "lowres", "resolution": 7}
        assert meta["didicm.data_fraction"] == "0.01"
        assert json.loads(meta["didicm.training"])["train_images"] == 599  # sum over classes of round(0.01 * n_c)
        if kind == "classifier":
            assert _io(m.graph)[1] == [("logits", onnx.TensorProto.FLOAT, ["batch", 10])]
    cli.main(["evaluate", "--score", str(tmp_path / "score.pt"), "--classifier", str(tmp_path / "classifier.pt"),
              "--limit", "50", "--cp-steps", "1", "2", "--cl-chains", "4", "--out", str(tmp_path / "e.json")])
    rows = json.load(open(str(tmp_path / "e.json")))["rows"]
    assert [(r["method"], r["nfe"]) for r in rows] == [("ce", 1), ("cp", 1), ("cp", 2), ("cl", 8)]
    assert all(0 <= r["top1"] <= r["top2"] <= 1 and r["ece"] >= 0 for r in rows)


def test_random_exports_full_size_metadata_and_the_same_weights(tmp_path):
    path, state = str(tmp_path / "r.onnx"), str(tmp_path / "r.pt")
    cli.main(["random", "--kind", "score", "--layout", "small", "--size", "32", "--channels", "3", "--k", "6",
              "--seed", "4", "--out", path, "--state", state])
    m = onnx.load(path)
    assert _io(m.graph)[0][0] == ("image", onnx.TensorProto.FLOAT, ["batch", 3, 32, 32])
    meta = {p.key: p.value for p in m.metadata_props}
    assert json.loads(meta["didicm.degradation"]) == {"kind": "none"}
    assert json.loads(meta["didicm.norm_std"]) == [0.25] * 3
    assert json.loads(meta["didicm.training"])["seed"] == 4
    torch.manual_seed(4)
    want = build("score", "small", 3, 6).state_dict()
    got = torch.load(state)
    assert sorted(got) == sorted(want) and all(torch.equal(got[k], want[k]) for k in want)


def test_one_channel_per_group_erases_the_conditioning_and_two_keep_it():
    from didicm_train.model import _Cond, _groups
    torch.manual_seed(0)
    x = torch.randn(2, 16, 5, 5)
    emb_a, emb_b = torch.randn(1, 128).expand(2, -1), torch.randn(1, 128).expand(2, -1)
    one, two = _Cond(16, 1), _Cond(16, 2)
    two.load_state_dict(one.state_dict())
    assert torch.allclose(one(x, emb_a), one(x, emb_b), atol=1e-6)  # the label and sigma are gone
    assert not torch.allclose(two(x, emb_a), two(x, emb_b), atol=1e-3)
    assert [_groups(c, 2) for c in (16, 32, 64, 128)] == [8, 16, 32, 32]
    assert [_groups(c, 1) for c in (16, 32, 64)] == [16, 32, 32]


def test_blind_stages_drop_the_label_and_sigma_there_and_keep_the_normalisation():
    from didicm_train.model import DiDiRN
    torch.manual_seed(0)
    m = DiDiRN("small", 1, 10, gn_min_channels=2, blind_stages=2).eval()
    assert [b.cond.proj is None for b in m.blocks] == [True, True, False]
    assert [b.cond.norm.num_groups for b in m.blocks] == [8, 16, 32]
    x = torch.randn(2, 1, 28, 28)
    sig = torch.tensor([0.5, 0.5])
    emb = [m.sigma_mlp(sinusoidal(s, EMB_DIM)) + m.label_emb(c) for s, c in
           ((sig, torch.tensor([1, 1])), (sig * 4, torch.tensor([7, 7])))]
    h = [m.blocks[1](m.blocks[0](m.stem(x), e), e) for e in emb]
    assert torch.equal(h[0], h[1])  # the first two stages see neither
    a = m(x, torch.tensor([1, 1]), sig)
    b = m(x, torch.tensor([7, 7]), sig * 4)
    with pytest.raises(ValueError, match="blind_stages 3"):
        DiDiRN("small", 1, 10, blind_stages=3)  # a model that ignores its label
    rest = [0, 2, 3, 4, 5, 6, 8, 9]  # not the entries forced to 0 at either label
    assert not torch.allclose(a[:, rest], b[:, rest], atol=1e-3)  # the last stage sees both


def test_a_killed_run_resumes_to_the_same_weights_as_an_uninterrupted_one(tmp_path):
    from didicm_train.train import train
    cfg = {"kind": "score", "layout": "small", "data": "mnist", "resolution": 7, "fraction": 0.01, "steps": 6,
           "batch": 8, "lr": 2e-3, "seed": 3, "shift": 2, "mean": [0.13], "std": [0.31], "weight_decay": 0.05,
           "intensity": None, "gn_min_channels": 2}
    whole, *_ = train(dict(cfg), log=lambda m: None)
    ck = str(tmp_path / "run.partial")

    class Killed(Exception):
        pass

    def kill_after_step_4(msg):
        if msg.startswith("step 5/"):
            raise Killed
    with pytest.raises(Killed):
        train(dict(cfg), log=kill_after_step_4, checkpoint=ck, every=2)
    seen = []
    resumed, *_ = train(dict(cfg), log=seen.append, checkpoint=ck, every=2)
    assert seen[0] == f"resumed {ck} at step 4"
    a, b = whole.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="other settings"):
        train({**cfg, "lr": 1e-3}, log=lambda m: None, checkpoint=ck, every=2)


def test_native_resolution_and_stride_two_stem(tmp_path):
    from didicm_train import data as D
    x = torch.rand(2, 1, 28, 28)
    assert tuple(D.degrade(x, 7, native=True).shape) == (2, 1, 7, 7)
    assert tuple(D.degrade(x, 7).shape) == (2, 1, 28, 28)
    assert D.degrade(x, 7).equal(D.resize(D.degrade(x, 7, native=True), 28, 28))
    s1, s2 = build("classifier", "small", 1, 10), build("classifier", "small-s2", 1, 10)
    assert s1.stem[0].stride == (1, 1) and s2.stem[0].stride == (2, 2)
    ck = str(tmp_path / "n.pt")
    cli.main(["train", "--kind", "score", "--layout", "small-s2", "--resolution", "7", "--native", "--fraction", "0.01",
              "--steps", "2", "--batch", "8", "--out", ck])
    saved = torch.load(ck)
    assert saved["shape"] == (1, 7, 7) and saved["cfg"]["native"] is True
    cli.main(["evaluate", "--score", ck, "--limit", "20", "--cp-steps", "2", "--cl-chains", "2",
              "--out", str(tmp_path / "e.json")])
    assert len(json.load(open(str(tmp_path / "e.json")))["rows"]) == 2


def test_shift_crops_each_image_at_its_own_offset():
    from didicm_train.train import shift
    x = torch.rand(5, 2, 6, 7)
    got = shift(x, 2, torch.Generator().manual_seed(9))
    g = torch.Generator().manual_seed(9)
    dx, dy = torch.randint(0, 5, (5,), generator=g), torch.randint(0, 5, (5,), generator=g)
    padded = torch.nn.functional.pad(x, (2,) * 4)
    for i in range(5):
        assert got[i].equal(padded[i, :, dy[i]:dy[i] + 6, dx[i]:dx[i] + 7])
