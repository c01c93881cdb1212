from __future__ import annotations

import json

from tests.conftest import graph, layer, t
from zooprof.ir.graph import Graph, ParamSpec, QuantSpec, TensorSpec
from zooprof.ir.ops import OpKind
from zooprof.ir.serialize import graph_from_dict, graph_to_dict


def test_graph_json_roundtrip() -> None:
    x = TensorSpec("x", (1, 3, 8, 8), "uint8", QuantSpec((0.5,), (127,)))
    y = t("y", 1, 4, 8, 8)
    g = graph(
        [x],
        [
            layer(
                "c",
                OpKind.CONV,
                [x],
                y,
                params=(ParamSpec("c.w", (4, 3, 3, 3)),),
                kernel=(3, 3),
                stride=(1, 1),
                padding=(1, 1),
                groups=1,
                in_channels=3,
                out_channels=4,
                bias=False,
            )
        ],
    )
    back = graph_from_dict(json.loads(json.dumps(graph_to_dict(g))))
    assert back == g


def test_params_not_in_trace_roundtrip_and_old_graphs() -> None:
    x, y = t("x", 1, 4), t("y", 1, 2)
    used = ParamSpec("fc.weight", (2, 4))
    g = graph([x], [layer("fc", OpKind.DENSE, [x], y, params=(used,), in_features=4, out_features=2, bias=False)])
    d = graph_to_dict(g)
    assert "params_not_in_trace" not in d  # written only when there are some
    assert graph_from_dict(d).params_not_in_trace == ()  # a graph saved before the field existed
    aux = (ParamSpec("aux.weight", (3, 4)), ParamSpec("aux.bn.running_mean", (3,), kind="buffer"))
    g2 = Graph(g.name, g.framework, g.inputs, g.layers, g.outputs, params_not_in_trace=aux)
    d2 = json.loads(json.dumps(graph_to_dict(g2)))
    assert d2["params_not_in_trace"][1] == {
        "name": "aux.bn.running_mean",
        "shape": [3],
        "dtype": "float32",
        "kind": "buffer",
    }
    assert graph_from_dict(d2) == g2
