"""Writes didicm.recommended_steps and didicm.min_steps into an exported score
model, leaving its graph and weights as they are (the file's sha256 changes):
    /usr/bin/python3 training/scripts/set-steps.py MODEL.onnx RECOMMENDED MINIMUM
The export writes the same keys (--recommended-steps, --min-steps); this is
for models exported before it did."""
import sys

import onnx

path, rec, low = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if not 0 < low <= rec:
    raise SystemExit("want 0 < MINIMUM <= RECOMMENDED")
m = onnx.load(path)
props = {p.key: p.value for p in m.metadata_props}
if props.get("didicm.kind") != "score":
    raise SystemExit(f"{path}: not a score model")
props["didicm.recommended_steps"], props["didicm.min_steps"] = str(rec), str(low)
del m.metadata_props[:]
for k, v in props.items():
    p = m.metadata_props.add()
    p.key, p.value = k, v
onnx.checker.check_model(m)
onnx.save(m, path)
print(f"{path}: recommended_steps={rec} min_steps={low}")
