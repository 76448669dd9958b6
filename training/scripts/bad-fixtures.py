"""Writes small ONNX files that break the model contract, for the Go tests.

Usage: /usr/bin/python3 training/scripts/bad-fixtures.py testdata/bad
Each is a tiny valid ONNX graph (log_score = Flatten(image) @ W, masked at
label) with one thing wrong, named by its file.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

K = 4


def meta(**over):
    m = {"format_version": "1", "kind": "score", "layout": "tiny", "num_classes": str(K),
         "class_names": json.dumps([f"c{i}" for i in range(K)]), "input_channels": "1", "input_height": "2",
         "input_width": "2", "color_mode": "gray", "norm_mean": "[0.5]", "norm_std": "[0.25]", "schedule": "loglinear",
         "schedule_eps": "0.001", "degradation": json.dumps({"kind": "none"}), "data_fraction": "1.0",
         "training": "{}"}
    m.update(over)
    return {k: v for k, v in m.items() if v is not None}


def graph(image_name="image", label_type=TensorProto.INT64, batch="batch", k=K):
    w = helper.make_tensor("W", TensorProto.FLOAT, [4, k], np.linspace(-1, 1, 4 * k).astype(np.float32).tolist())
    nodes = [helper.make_node("Flatten", [image_name], ["flat"]), helper.make_node("MatMul", ["flat", "W"], ["log_score"])]
    ins = [helper.make_tensor_value_info(image_name, TensorProto.FLOAT, [batch, 1, 2, 2]),
           helper.make_tensor_value_info("label", label_type, [batch]),
           helper.make_tensor_value_info("sigma", TensorProto.FLOAT, [batch])]
    outs = [helper.make_tensor_value_info("log_score", TensorProto.FLOAT, [batch, k])]
    return helper.make_graph(nodes, "bad", ins, outs, initializer=[w])


def write(folder, name, g, md):
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    for k, v in md.items():
        p = m.metadata_props.add()
        p.key, p.value = "didicm." + k, v
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(folder, name + ".onnx"))


def main(folder):
    os.makedirs(folder, exist_ok=True)
    write(folder, "valid", graph(), meta())
    write(folder, "missing-num-classes", graph(), meta(num_classes=None))
    write(folder, "class-names-mismatch", graph(), meta(class_names=json.dumps(["a", "b"])))
    write(folder, "wrong-input-name", graph(image_name="pixels"), meta())
    write(folder, "label-is-float", graph(label_type=TensorProto.FLOAT), meta())
    write(folder, "fixed-batch", graph(batch=2), meta())
    write(folder, "k-mismatch", graph(k=5), meta())
    write(folder, "future-format", graph(), meta(format_version="9"))
    with open(os.path.join(folder, "not-onnx.onnx"), "wb") as f:
        f.write(b"this is not a protobuf")


if __name__ == "__main__":
    main(sys.argv[1])
