"""DiDiRN training, evaluation and ONNX export (python3 -m didicm_train --help)."""
