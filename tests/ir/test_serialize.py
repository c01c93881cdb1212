from __future__ import annotations

import json

from tests.conftest import graph, layer, t
from zooprof.ir.graph import ParamSpec, QuantSpec, TensorSpec
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
