"""Walking a Keras model config: `ConfigWalker` reads a Sequential or Functional model (and
the models nested in it, flattened with the nesting in the names) call by call into a
`GraphBuilder`.

Graph inputs take their shapes from --input-shape (logical order) or the config's declared
shapes; a Functional model's layers are called once their inputs are produced, and Keras 3's
recorded tensor shapes are checked against the computed ones. Each call goes to its handler
from `registry.handler_for` (keras.ops nodes have their own); Lambda and custom classes are
refused unless trusted, and classes without a handler are emitted as OpKind.UNKNOWN with the
config's output shape (or the input's, noted as assumed).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from zooprof.errors import ModelShapeError, UsageError
from zooprof.frontends.keras.builder import GraphBuilder, KTensor, Nesting
from zooprof.frontends.keras.call import LayerCall
from zooprof.frontends.keras.constants import CODE_CLASSES, INPUT_CLASSES, MODEL_CLASSES, KShape
from zooprof.frontends.keras.dialects import (
    TensorRef,
    declared_shape,
    input_dtype,
    io_refs,
    layer_dtypes,
    layer_name,
    parse_nodes,
)
from zooprof.frontends.keras.registry import handler_for, is_custom
from zooprof.ir.ops import OpKind


class ConfigWalker:
    """Reads a model record, and the models nested in it, into a GraphBuilder."""

    def __init__(self, b: GraphBuilder) -> None:
        self.b = b
        self.n_inputs = 0

    # ---------------------------------------------------------------- inputs
    def graph_input(self, name: str, declared: KShape | None, dtype: str) -> KTensor:
        b = self.b
        i = self.n_inputs
        self.n_inputs += 1

        def shown(shape: Sequence[int | None]) -> str:
            return "x".join("?" if d is None else str(d) for d in b.logical(tuple(shape)))  # type: ignore[arg-type]

        if b.user_shapes is not None:
            if i >= len(b.user_shapes):
                raise UsageError(
                    f"the model has more inputs than --input-shape gives ({len(b.user_shapes)})",
                    "give one shape per input, separated by commas",
                )
            logical = b.user_shapes[i]
            keras = logical if b.channels_first or len(logical) < 3 else (logical[0], *logical[2:], logical[1])
            if declared is not None:
                if len(declared) != len(keras):
                    raise UsageError(
                        f"input '{name}' has rank {len(declared)} (N, C, spatial: {shown(declared)}), "
                        f"--input-shape gives {'x'.join(map(str, logical))} (rank {len(logical)})",
                        f"give a shape of rank {len(declared)}, batch first, channels second",
                    )
                if any(d is not None and d != k for d, k in zip(declared[1:], keras[1:], strict=True)):
                    b.input_notes.append(
                        f"input '{name}': the model declares {shown(declared)}, analysed at "
                        f"{'x'.join(map(str, logical))} (--input-shape)"
                    )
                    b.check_recorded = False
                elif any(d is None for d in declared[1:]):
                    b.check_recorded = False
            shape: tuple[int, ...] = tuple(int(d) for d in keras)
        else:
            if declared is None:
                raise UsageError(f"input '{name}' has no shape in the Keras config", "give --input-shape")
            if any(d is None for d in declared[1:]):
                raise UsageError(
                    f"input '{name}' has dynamic dimensions (N, C, spatial: {shown(declared)}) and no "
                    "--input-shape was given",
                    "give one, batch first, channels second, e.g. --input-shape 1x3x224x224",
                )
            shape = (b.batch if declared[0] is None else int(declared[0]), *(int(d) for d in declared[1:]))  # type: ignore[arg-type]
        t = KTensor(name, shape, dtype)
        b.inputs.append(b.spec(t))
        b.used_shapes.append(b.logical(t.shape))
        return t

    # ---------------------------------------------------------------- models
    def model(self, record: dict[str, Any], ctx: Nesting, inputs: list[KTensor] | None) -> list[KTensor]:
        cls = record.get("class_name")
        cfg = record.get("config") or {}
        if not isinstance(cfg, dict) or not isinstance(cfg.get("layers"), list):
            raise UsageError(
                f"the nested Keras model '{'/'.join(ctx.names) or cls}' has no layers", "the config may be damaged"
            )
        if cls == "Sequential" or ("input_layers" not in cfg and "output_layers" not in cfg):
            return self.sequential(cfg, ctx, inputs)
        return self.functional(cfg, ctx, inputs)

    def sequential(self, cfg: dict[str, Any], ctx: Nesting, inputs: list[KTensor] | None) -> list[KTensor]:
        current: list[KTensor] | None = list(inputs) if inputs is not None else None
        layers = cfg["layers"]
        if current is None and layers and layers[0].get("class_name") not in INPUT_CLASSES | MODEL_CLASSES:
            # Keras 2 style: the first layer declares the input (batch_input_shape)
            first = layers[0]
            first_cfg = first.get("config") or {}
            declared = declared_shape(first_cfg)
            if declared is None and isinstance(cfg.get("build_input_shape"), list):
                declared = tuple(cfg["build_input_shape"])
            current = [
                self.graph_input(self.top_name(ctx, f"{layer_name(first)}_input"), declared, layer_dtypes(first_cfg)[0])
            ]
        for entry in layers:
            cls = entry.get("class_name")
            if cls in INPUT_CLASSES:
                if current is None:
                    lcfg = entry.get("config") or {}
                    current = [
                        self.graph_input(self.top_name(ctx, layer_name(entry)), declared_shape(lcfg), input_dtype(lcfg))
                    ]
                continue
            if current is None:  # a nested model that declares its own input
                current = self.call(entry, ctx, None, {}, 0, {})
                continue
            current = self.call(entry, ctx, current, {}, 0, {})
        if current is None:
            raise UsageError(f"the Keras Sequential model '{cfg.get('name')}' has no layers", "the config is empty")
        return current

    def top_name(self, ctx: Nesting, name: str) -> str:
        return "/".join((*ctx.names, name))

    def functional(self, cfg: dict[str, Any], ctx: Nesting, inputs: list[KTensor] | None) -> list[KTensor]:
        entries = {layer_name(e): e for e in cfg["layers"]}
        produced: dict[tuple[str, int], list[KTensor]] = {}
        in_refs = io_refs(cfg.get("input_layers"))
        if inputs is not None:
            if len(in_refs) != len(inputs):
                raise UsageError(
                    f"the nested Keras model '{cfg.get('name')}' takes {len(in_refs)} input(s), "
                    f"it is called with {len(inputs)}",
                    "the config may be damaged",
                )
            for (name, node, _), t in zip(in_refs, inputs, strict=True):
                produced[(name, node)] = [t]
        else:
            for name, node, _ in in_refs:
                entry = entries.get(name)
                if entry is None:
                    raise UsageError(
                        f"the Keras model's input '{name}' is not among its layers", "the config may be damaged"
                    )
                lcfg = entry.get("config") or {}
                produced[(name, node)] = [
                    self.graph_input(self.top_name(ctx, name), declared_shape(lcfg), input_dtype(lcfg))
                ]
        # calls in the order of the list, each once its inputs exist (a heap of ready calls by
        # position: linear in calls + references whatever the order the config lists them in)
        calls: list[tuple[str, int, list[TensorRef], dict[str, Any]]] = []
        recorded: dict[tuple[str, int], dict[int, KShape]] = {}
        for e in cfg["layers"]:
            if e.get("class_name") in INPUT_CLASSES:
                continue
            for k, (refs, kwargs) in enumerate(parse_nodes(e)):
                calls.append((layer_name(e), k, refs, kwargs))
                for r in refs:
                    if r.shape is not None:
                        recorded.setdefault((r.layer, r.node), {})[r.index] = r.shape
        node_counts: dict[str, list[int]] = {}
        for name, node in produced:
            node_counts.setdefault(name, []).append(node)
        waiting: dict[str, list[int]] = {}
        ready: list[int] = []

        def wait_or_ready(i: int) -> None:
            missing = [r.layer for r in calls[i][2] if self.lookup(produced, r, node_counts) is None]
            if missing:
                waiting.setdefault(missing[0], []).append(i)
            else:
                heapq.heappush(ready, i)

        for i in range(len(calls)):
            wait_or_ready(i)
        done = 0
        while ready:
            i = heapq.heappop(ready)
            name, k, refs, kwargs = calls[i]
            tensors = [self.lookup(produced, r, node_counts) for r in refs]
            self.check_recorded(refs, tensors)  # type: ignore[arg-type]
            produced[(name, k)] = self.call(
                entries[name],
                ctx,
                tensors,  # type: ignore[arg-type]
                kwargs,
                k,
                recorded.get((name, k), {}),
            )
            node_counts.setdefault(name, []).append(k)
            done += 1
            for j in waiting.pop(name, []):
                wait_or_ready(j)
        if done < len(calls):
            left = sorted(j for js in waiting.values() for j in js)
            name, _, refs, _ = calls[left[0]]
            r = next(r for r in refs if self.lookup(produced, r, node_counts) is None)
            got = produced.get((r.layer, r.node))
            what = (
                f"output {r.index} of '{r.layer}', which has {len(got)}"
                if got is not None
                else f"'{r.layer}', which nothing produces"
            )
            raise UsageError(f"{self.b.source}: Keras layer '{name}' reads from {what}", "the config may be damaged")
        outs = []
        for name, node, index in io_refs(cfg.get("output_layers")):
            t = self.lookup(produced, TensorRef(name, node, index))
            if t is None:
                raise UsageError(f"the Keras model's output '{name}' is never computed", "the config may be damaged")
            outs.append(t)
        return outs

    def check_recorded(self, refs: list[TensorRef], tensors: list[KTensor]) -> None:
        """Keras 3 records each tensor's shape where it is read: the computed shape must agree."""
        if not self.b.check_recorded:
            return
        for r, t in zip(refs, tensors, strict=True):
            if r.shape is None or len(r.shape) != len(t.shape):
                continue
            if any(d is not None and d != g for d, g in zip(r.shape[1:], t.shape[1:], strict=True)):
                got = "x".join(map(str, self.b.logical(t.shape)))
                want = "x".join("?" if d is None else str(d) for d in self.b.logical(r.shape))  # type: ignore[arg-type]
                raise ModelShapeError(
                    f"Keras layer '{r.layer}': zooprof computes the output {got}, the config records {want}",
                    "please report this model: zooprof misreads one of its layers",
                )

    @staticmethod
    def lookup(
        produced: dict[tuple[str, int], list[KTensor]],
        ref: TensorRef,
        node_counts: dict[str, list[int]] | None = None,
    ) -> KTensor | None:
        got = produced.get((ref.layer, ref.node))
        if got is None:
            if node_counts is not None:
                calls = node_counts.get(ref.layer, [])
            else:
                calls = [k for (n, k) in produced if n == ref.layer]
            if len(calls) == 1 and ref.node == calls[0] + 1:  # a nested model's own first node counted
                got = produced[(ref.layer, calls[0])]
        if got is None or not 0 <= ref.index < len(got):
            return None
        return got[ref.index]

    # ---------------------------------------------------------------- one call
    def call(
        self,
        entry: dict[str, Any],
        ctx: Nesting,
        inputs: list[KTensor] | None,
        kwargs: dict[str, Any],
        k: int,
        recorded: dict[int, KShape],
    ) -> list[KTensor]:
        b = self.b
        cls = str(entry.get("class_name"))
        name = layer_name(entry)
        cfg = entry.get("config") or {}
        if cls in MODEL_CLASSES:
            trainable = bool(cfg.get("trainable", True)) if isinstance(cfg, dict) else True
            return self.model(entry, ctx.child(name, k, trainable), inputs)
        if inputs is None:
            raise UsageError(
                f"Keras layer '{name}' has no input (the model declares no input shape)", "give --input-shape"
            )
        shown = name if k == 0 else f"{name}#{k}"
        lctx = ctx if cfg.get("trainable", True) is not False else Nesting(ctx.names, ctx.params, False)
        full = "/".join((*ctx.names, shown))
        if cls in CODE_CLASSES or is_custom(entry):
            what = (
                "a Lambda layer"
                if cls == "Lambda"
                else f"a {cls} layer"
                if cls in CODE_CLASSES
                else f"a custom layer of class '{cls}'"
            )
            if not b.trust:
                raise UsageError(
                    f"the model has {what} '{full}': its code would run if Keras loaded the model",
                    "pass --trust if you trust the model's source; zooprof then lists it as uncounted",
                )
            return [self.unknown(cls, name, lctx, shown, inputs, cfg, recorded.get(0), code=True)]
        handler = handler_for(entry, kwargs)
        if handler is None:
            return [self.unknown(cls, name, lctx, shown, inputs, cfg, recorded.get(0), code=False)]
        compute, var = layer_dtypes(cfg)
        outs = handler(LayerCall(b, lctx, shown, name, cls, cfg, compute, var, kwargs), inputs)
        return outs if isinstance(outs, list) else [outs]

    def unknown(
        self,
        cls: str,
        name: str,
        ctx: Nesting,
        shown: str,
        inputs: list[KTensor],
        cfg: dict[str, Any],
        recorded: KShape | None,
        code: bool,
    ) -> KTensor:
        """A layer without a rule: OpKind.UNKNOWN, its output shape from the config if it has one."""
        b = self.b
        shape = recorded
        declared = cfg.get("output_shape")
        if (
            shape is None
            and isinstance(declared, list)
            and declared
            and all(isinstance(d, int) or d is None for d in declared)
        ):
            shape = (None, *declared)
        full = "/".join((*ctx.names, shown))
        if shape is None or any(d is None for d in shape[1:]):
            shape = inputs[0].shape if inputs else (b.batch,)
            b.assumed_shapes.append(full)
        out = (inputs[0].shape[0] if inputs else b.batch, *shape[1:])
        dtype = inputs[0].dtype if inputs else "float32"
        return b.emit(
            ctx,
            shown,
            OpKind.UNKNOWN,
            cls,
            inputs,
            out,
            dtype,  # type: ignore[arg-type]
            {"keras_class": cls, **({"code": True} if code else {})},
            keras_name=name,
        )
