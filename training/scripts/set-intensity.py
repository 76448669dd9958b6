"""Sets or removes didicm.intensity in an exported model, leaving its graph
and weights byte for byte as they are (the file's sha256 changes):
    /usr/bin/python3 training/scripts/set-intensity.py MODEL.onnx none
    /usr/bin/python3 training/scripts/set-intensity.py MODEL.onnx '{"kind": "window", "center": 40, "width": 400}'
"none" is what the export now writes for a model not trained on DICOM (it
reads grey DICOM with bits, as a PNG of the same samples); this is for models
exported before, which declared minmax whatever they were trained on."""
import json
import sys

import onnx

sys.path.insert(0, __file__.rsplit("/scripts/", 1)[0])
from didicm_train.dicom import parse_intensity  # noqa: E402

path, value = sys.argv[1], sys.argv[2]
m = onnx.load(path)
graph = m.graph.SerializeToString()
props = {p.key: p.value for p in m.metadata_props}
if value == "none":
    props.pop("didicm.intensity", None)
else:
    props["didicm.intensity"] = json.dumps(parse_intensity(value))
del m.metadata_props[:]
for k, v in props.items():
    p = m.metadata_props.add()
    p.key, p.value = k, v
onnx.checker.check_model(m)
if m.graph.SerializeToString() != graph:
    raise SystemExit(f"{path}: the graph changed; not saved")
onnx.save(m, path)
print(f"{path}: didicm.intensity {props.get('didicm.intensity', 'removed')}")
