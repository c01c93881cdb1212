"""An einsum equation read against its operands' shapes, for the einsum rule (rules/attention.py).

Frontends give an einsum layer three attributes: `equation` with every '...' spelt out as
digits (`ab0,b0c->a0c`), `indices` (the distinct indices, in order of appearance) and `sizes`
(each index's size, broadcast dimensions at their largest). `einsum_attrs(equation, shapes)`
computes them, or says in words why it cannot (the frontend then maps the layer as uncounted).
Pure Python: the PyTorch and ONNX frontends share it.
"""

from __future__ import annotations

from typing import Any

Shape = tuple[int, ...]


def spell_terms(equation: str, shapes: list[Shape]) -> tuple[list[str], str] | str:
    """Each operand's indices with '...' spelt out as digits, and the output's; or why not."""
    eq = "".join(equation.split())
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        return f"einsum equation {eq!r} names {len(terms)} operands, got {len(shapes)}"
    ell = max((len(s) - (len(t) - 3) for t, s in zip(terms, shapes, strict=True) if "..." in t), default=0)
    if ell > 10:
        return f"einsum equation {eq!r} broadcasts over more than 10 dimensions"
    fresh = "".join(str(i) for i in range(ell))  # digits never appear in an einsum equation
    spelt = []
    for term, shape in zip(terms, shapes, strict=True):
        if "..." in term:
            n = len(shape) - (len(term) - 3)
            term = term.replace("...", fresh[ell - n :] if n else "")
        if len(term) != len(shape):
            return f"einsum term {term!r} does not fit an operand of rank {len(shape)}"
        spelt.append(term)
    if arrow:
        out = out.replace("...", fresh)
    else:  # implicit output: broadcast dims, then the indices used once, alphabetically
        once = [c for c in set("".join(spelt)) if "".join(spelt).count(c) == 1 and not c.isdigit()]
        out = fresh + "".join(sorted(once))
    return spelt, out


def einsum_attrs(equation: str, shapes: list[Shape]) -> dict[str, Any] | str:
    """{'equation', 'indices', 'sizes'} of a two-operand einsum, or why it cannot be counted."""
    if len(shapes) != 2:
        why = "one operand: a sum or permutation" if len(shapes) == 1 else "the cost depends on the contraction order"
        return f"einsum with {len(shapes)} operand(s) ({why})"
    terms = spell_terms(equation, shapes)
    if isinstance(terms, str):
        return terms
    spelt, out = terms
    sizes: dict[str, int] = {}
    for term, shape in zip(spelt, shapes, strict=True):
        for c, d in zip(term, shape, strict=True):
            sizes[c] = max(sizes.get(c, 1), int(d))
    return {"equation": f"{','.join(spelt)}->{out}", "indices": "".join(sizes), "sizes": tuple(sizes.values())}
