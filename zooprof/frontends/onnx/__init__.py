"""ONNX frontend: ONNX files -> Graph (static shape inference, op mapping, BN folding noted)."""
