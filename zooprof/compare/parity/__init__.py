"""Parity view: one model in several formats (Keras, TF.js, TFLite float/int8, ONNX, ...).

`compare(refs, latency, max_time) -> ParityReport` reads every format, lines up their totals
and their conv/dense layers, and explains the differences instead of hiding them (BatchNorm
folding, BN statistics counted as params or buffers, quantised storage, MACs per layer).
`ParityReport.to_dict()` is the JSON `zooprof compare-formats -o x.json` writes; the renderers
(zooprof.renderers.parity_text, zooprof.renderers.parity_data) only lay the report out.

Modules, each using only those above it:

- `model`: the typed report (`ParityReport`, `FormatRecord`, the findings) and its JSON form;
- `wording`: numbers, counts and shapes as the sentences write them;
- `discover`: the model files in a folder;
- `formats`: reading one format into a `FormatRecord`, and the vocabulary of formats;
- `align`: the conv/dense layers of every format side by side;
- `findings`: params, FLOPs, MACs and quantisation findings;
- `latency`: the median latency of one format on its default runtime;
- `tables`: the text cells of the summary and layer tables;
- `build`: `compare`, the entry point.
"""

from zooprof.compare.parity.build import compare

__all__ = ["compare"]
