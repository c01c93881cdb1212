"""PyTorch frontend: models, TorchScript and torch.export files -> Graph on the meta device.

- `read`: loaders and `read(ref, shapes, options)`.
- `builder`: `GraphBuilder`, the IR under construction.
- `fx_trace`: the torch.fx path (and the per-layer timing interpreter).
- `dispatch`: the hooks + aten dispatch path.
- `ops`: module, function and aten op -> (OpKind, attributes).
- `detection`: torchvision detectors, read on CPU tensors.
"""
