"""Model references: what a user types ("vgg16", "model.onnx", "pkg.mod:fn") -> ModelRef.

- `resolve`: reference -> `ModelRef` (kind, source, framework, default input shape), "did you mean".
- `registry`: the zoo (`zoo/*.toml` manifests) as a `Registry` object.
- `shapes`: `--input-shape` parsing and checks.
- `models/`: networks zooprof defines itself (alexnet-2012, mnist-mlp, tm-image-v2).
"""
