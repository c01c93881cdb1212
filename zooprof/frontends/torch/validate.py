"""What a PyTorch file may hold before zooprof lets torch read it (issue 16: a model file is data).

`file_kind` names the format from the bytes (a regular file only; a damaged zip or an empty file is
a one-line error). `check_export_archive` reads a torch.export (`.pt2`) archive's members and JSON
without torch and refuses, unless the user passes --trust, everything torch would turn into code:

- a pickled weight, constant or custom/opaque object (`use_pickle`, `custom_obj_*`, `opaque_obj_*`),
  which torch.export.load unpickles with `weights_only=False`;
- AOTInductor members (`data/aotinductor/`: a compiled shared library torch would load);
- the pre-2.8 archive layout (no `archive_format`), read through a path that falls back to unpickling;
- a graph node whose target is not an operator (`torch.ops.<ns>.<op>[.<overload>]`) or one of the
  symbolic-shape functions torch.export writes (`_operator.add`, `torch.sym_max`, ...): the
  deserialiser resolves any dotted name under `torch`, `_operator` or `math` (`torch.os.system`);
- a symbolic expression (`expr_str`) with anything but sympy's printed form of integer arithmetic:
  the deserialiser hands it to `sympy.sympify`, which evaluates it as Python;
- a parameter, buffer or constant name that is not a dotted name: `ep.module()` pastes it into
  the Python code torch.fx generates and runs (`getattr(self, "NAME")`).

The sample inputs are torch.save pickles: they are loaded with `weights_only=True` (see
`isolated.no_unsafe_unpickling`), and the graph's `guards_code` (Python source torch.export pastes
into a function) is never compiled (`ep.module(check_guards=False)`).
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError

#: a JSON member of a .pt2 archive read for these checks (the graph, the payload configs)
MAX_JSON_BYTES = 512 * 2**20
MAX_JSON_DEPTH = 200
TRUST_HINT = "pass --trust only if you trust its source"

#: the symbolic-shape functions torch.export serialises by name (torch._export.serde.serialize._SYM_OPS)
SYM_TARGETS = frozenset(
    [
        f"_operator.{n}"
        for n in [
            "eq",
            "ne",
            "le",
            "ge",
            "lt",
            "gt",
            "neg",
            "pos",
            "mul",
            "add",
            "sub",
            "floordiv",
            "mod",
            "pow",
            "truediv",
        ]
    ]
    + ["_operator.and_", "_operator.or_", "_operator.lshift", "_operator.rshift", "_operator.getitem"]
    + ["math.trunc", "math.floor", "math.ceil", "math.sqrt"]
    + [f"torch.sym_{n}" for n in ["not", "int", "float", "ite", "max", "min", "sqrt"]]
)
OP_TARGET = re.compile(r"torch\.ops(\.[A-Za-z][A-Za-z0-9_]*){2,3}")
#: operators that read files: not run on a file's say-so
FILE_OPS = frozenset(["from_file", "load_library"])

#: names allowed in a symbolic expression: sympy's printed forms and torch's sympy functions
EXPR_NAMES = frozenset(
    [
        "Symbol",
        "Integer",
        "Rational",
        "Float",
        "Add",
        "Mul",
        "Pow",
        "Max",
        "Min",
        "Abs",
        "Mod",
        "floor",
        "ceiling",
        "Eq",
        "Ne",
        "Lt",
        "Le",
        "Gt",
        "Ge",
        "StrictLessThan",
        "LessThan",
        "StrictGreaterThan",
        "GreaterThan",
        "Equality",
        "Unequality",
        "And",
        "Or",
        "Not",
        "Piecewise",
        "true",
        "false",
        "True",
        "False",
        "oo",
        "zoo",
        "nan",
        "S",
        "One",
        "Zero",
        "NegativeOne",
        "Half",
        "Infinity",
        "NegativeInfinity",
        "NaN",
        "precision",
        "positive",
        "negative",
        "nonnegative",
        "nonpositive",
        "integer",
        "real",
        "finite",
        "nonzero",
        "zero",
        "even",
        "odd",
        "commutative",
        "rational",
        "extended_real",
        "FloorDiv",
        "ModularIndexing",
        "Where",
        "PythonMod",
        "CleanDiv",
        "CeilToInt",
        "FloorToInt",
        "CeilDiv",
        "IntTrueDiv",
        "FloatTrueDiv",
        "LShift",
        "RShift",
        "IsNonOverlappingAndDenseIndicator",
        "TruncToFloat",
        "TruncToInt",
        "RoundToInt",
        "RoundDecimal",
        "ToFloat",
        "FloatPow",
        "PowByNatural",
        "Identity",
        "Min",
        "Max",
    ]
)
EXPR_TOKEN = re.compile(
    r"\s+|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>\d{1,40}(\.\d{0,40})?(e[-+]?\d{1,4})?)"
    r"|'(?P<string>[^'\\]{0,64})'|(?P<punct>\*\*|//|[-+*/%(),=<>!]=?)"
)
#: keys whose values name a parameter, buffer or constant: torch.fx pastes them into generated code
FQN_KEYS = frozenset(
    ["parameter_name", "buffer_name", "tensor_constant_name", "custom_obj_name", "user_input_name", "fqn"]
)
FQN = re.compile(r"([A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)?")
SYMBOL_NAME = re.compile(r"[a-z]+\d+|(OpaqueUnaryFn|BitwiseFn)_[a-z0-9_]+")
STRING_VALUE = re.compile(r"[A-Za-z][A-Za-z0-9_]*|-?\d{1,40}(\.\d{0,40})?(e[-+]?\d{1,4})?")


def _refuse(path: Path, why: str) -> UsageError:
    return UsageError(f"{path} needs --trust: {why}", TRUST_HINT)


def file_kind(path: Path) -> str:
    """'export', 'torchscript' or 'pickle' for a PyTorch file, from its contents; a one-line
    UsageError for anything else (not a regular file, empty, a damaged zip)."""
    try:
        info = path.stat()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path} is not a regular file", "give the path of a .pt, .pt2 or TorchScript file")
    if info.st_size == 0:
        raise UsageError(f"{path} is empty", "give a file saved with torch.export.save or torch.jit.save")
    try:
        with path.open("rb") as f:
            head = f.read(4)
        if head[:2] != b"PK":
            return "pickle"  # torch.save's legacy format (or garbage): refused without --trust
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (OSError, EOFError, ValueError, UnicodeDecodeError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise UsageError(
            f"cannot read {path}: not a valid PyTorch zip archive ({type(exc).__name__}: {_first_line(exc)})",
            "the file is damaged or truncated; save it again",
        ) from None
    if any(n.endswith("archive_format") or "/models/" in n and n.endswith(".json") for n in names):
        return "export"
    if any(n == "serialized_exported_program.json" for n in names):
        return "export"
    if any("/code/" in n for n in names) or any(n.endswith("constants.pkl") for n in names):
        return "torchscript"
    return "pickle"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else ""


def _relative(names: list[str]) -> dict[str, str]:
    """Archive member names without the archive's top-level folder (torch's record names)."""
    roots = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(roots) == 1 and all("/" in n for n in names):
        return {n.split("/", 1)[1]: n for n in names}
    return {n: n for n in names}


def _json_member(path: Path, z: zipfile.ZipFile, member: str) -> Any:
    info = z.getinfo(member)
    if info.file_size > MAX_JSON_BYTES:
        raise UsageError(
            f"{path}: member {member} declares {info.file_size} bytes (limit {MAX_JSON_BYTES // 2**20} MiB)",
            "a torch.export graph this large is not supported",
        )
    try:
        text = z.read(member)
        return json.loads(text)
    except RecursionError:
        raise UsageError(f"{path}: member {member} is nested too deeply", "save the model again") from None
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise UsageError(f"{path}: member {member} is not valid JSON ({_first_line(exc)})") from None


def check_expr(expr: str) -> str | None:
    """None if `expr` is a symbolic expression as torch.export prints it, else what is wrong."""
    if len(expr) > 100_000:
        return "longer than 100000 characters"
    pos = 0
    while pos < len(expr):
        m = EXPR_TOKEN.match(expr, pos)
        if m is None:
            return f"unexpected character {expr[pos]!r}"
        name, string = m.group("name"), m.group("string")
        if name is not None and name not in EXPR_NAMES and not SYMBOL_NAME.fullmatch(name):
            return f"name {name[:40]!r} is not a sympy function or a shape symbol"
        if string is not None and not STRING_VALUE.fullmatch(string):
            return f"string {string[:40]!r} is not a symbol name or a number"
        pos = m.end()
    return None


def check_target(target: str) -> bool:
    """True for an operator or a symbolic-shape function torch.export writes as a node target."""
    if target in SYM_TARGETS:
        return True
    if not OP_TARGET.fullmatch(target):
        return False
    return not any(part in FILE_OPS for part in target.split("."))


def _walk_graph(path: Path, member: str, doc: Any) -> None:
    """Every node target and symbolic expression in a serialised ExportedProgram (iteratively)."""
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise UsageError(f"{path}: {member} is nested more than {MAX_JSON_DEPTH} deep")
        if isinstance(value, dict):
            target = value.get("target")
            if isinstance(target, str) and "inputs" in value and not check_target(target):
                raise _refuse(path, f"its graph ({member}) calls {target[:80]!r}, which is not a torch operator")
            for key in FQN_KEYS.intersection(value):
                name = value[key]
                if isinstance(name, str) and not FQN.fullmatch(name):
                    raise _refuse(path, f"{key} {name[:80]!r} in {member} is not a dotted name (code in a name)")
            expr = value.get("expr_str")
            if isinstance(expr, str) and (problem := check_expr(expr)) is not None:
                raise _refuse(path, f"a shape expression in {member} is not plain arithmetic ({problem})")
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))


def _check_payloads(path: Path, member: str, doc: Any, constants: bool) -> None:
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        raise UsageError(f"{path}: {member} has no 'config' table", "save the model again with torch.export.save")
    for fqn, entry in config.items():
        if not FQN.fullmatch(fqn):
            raise _refuse(path, f"{member} names {fqn[:80]!r}, which is not a dotted name (code in a name)")
        if not isinstance(entry, dict):
            raise UsageError(f"{path}: {member} entry {str(fqn)[:80]!r} is not a table")
        if entry.get("use_pickle"):
            raise _refuse(path, f"{'constant' if constants else 'weight'} {str(fqn)[:80]!r} is stored as a pickle")
        name = entry.get("path_name")
        if constants and isinstance(name, str) and not name.startswith("tensor_"):
            raise _refuse(path, f"constant {str(fqn)[:80]!r} is a pickled Python object ({name[:40]})")


def check_export_archive(path: Path) -> None:
    """Refuse (UsageError: needs --trust) a .pt2 archive whose loading would unpickle or run code."""
    try:
        with zipfile.ZipFile(path) as z:
            members = _relative(z.namelist())
            if "archive_format" not in members:
                raise _refuse(path, "an old torch.export archive (before torch 2.8), which torch reads by unpickling")
            for name in members:
                if name.startswith(("data/aotinductor/", "data/executorch/", "data/mtia")):
                    raise _refuse(path, f"it holds compiled code ({name.split('/')[1]}) that torch would load")
                if name.startswith("xl_model_weights/"):
                    raise _refuse(path, "its weights are stored as pickles (xl_model_weights)")
                if name.startswith("data/weights/") and name.endswith(".pt"):
                    raise _refuse(path, f"its weights are a pickle ({name})")
                if name.startswith("data/constants/") and name.endswith(".pt"):
                    raise _refuse(path, f"its constants are a pickle ({name})")
            for name, member in members.items():
                if name.startswith("data/weights/") and name.endswith("_weights_config.json"):
                    _check_payloads(path, name, _json_member(path, z, member), constants=False)
                elif name.startswith("data/constants/") and name.endswith("_constants_config.json"):
                    _check_payloads(path, name, _json_member(path, z, member), constants=True)
                elif name.startswith("models/") and name.endswith(".json"):
                    _walk_graph(path, name, _json_member(path, z, member))
    except (OSError, EOFError, ValueError, UnicodeDecodeError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise UsageError(
            f"cannot read {path}: not a valid torch.export archive ({type(exc).__name__}: {_first_line(exc)})",
            "the file is damaged or truncated; save it again",
        ) from None
