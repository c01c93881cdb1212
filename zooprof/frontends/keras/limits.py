"""Reading the JSON and zip containers of Keras, TF.js and Teachable Machine files within limits,
so that a hostile file is cheap to refuse (docs/keras-tflite.md, "Limits"):

- JSON (model.json, metadata.json, a .keras file's config.json, an .h5 file's model_config):
  at most `ZOOPROF_MAX_JSON_BYTES` (default 64 MiB) checked before reading, nesting at most
  MAX_JSON_DEPTH levels (checked without recursion; deeper JSON is refused, never a
  RecursionError);
- zip archives (.keras, Teachable Machine exports): every member's declared sizes are checked
  before anything is expanded: encrypted members, compression methods other than stored and
  deflate, duplicate names, a member above its cap, and a member that expands more than
  MAX_ZIP_RATIO times its compressed size (above RATIO_FLOOR bytes) are refused. Reads are
  bounded by the declared size as well (zipfile stops there and checks the CRC).
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from zooprof.errors import UsageError
from zooprof.frontends.limits import check_model_file, size_cap

JSON_ENV = "ZOOPROF_MAX_JSON_BYTES"
MAX_JSON_BYTES = 64 << 20
#: JSON nesting (objects and arrays); a Keras config nests about 10 levels per nested model
MAX_JSON_DEPTH = 200
UNZIP_ENV = "ZOOPROF_MAX_UNZIP_BYTES"
MAX_UNZIP_BYTES = 4 << 30  # what a .keras file may expand to in all
MAX_ZIP_RATIO = 200
RATIO_FLOOR = 16 << 20
#: errors zipfile raises on a damaged member while reading it
ZIP_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, zlib.error, RuntimeError, NotImplementedError, ValueError)


def json_cap() -> int:
    return size_cap(JSON_ENV, MAX_JSON_BYTES)


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `value` (parsed JSON) nests deeper than `limit` objects/arrays (level by level, no recursion)."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        nxt: list[Any] = []
        for item in level:
            items = item.values() if type(item) is dict else item
            nxt += [v for v in items if type(v) is dict or type(v) is list]
        level = nxt
    return False


def load_json(data: bytes | str, name: str) -> Any:
    """Parsed JSON, or a one-line UsageError naming `name` (invalid, too large, too deep)."""
    cap = json_cap()
    if len(data) > cap:
        raise UsageError(
            f"{name} is {len(data):,} bytes of JSON, more than zooprof reads ({cap:,} bytes)",
            f"set {JSON_ENV} to a larger number of bytes if the file is genuine",
        )
    try:
        value = json.loads(data)
    except RecursionError:
        value = None
        deep = True
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not JSON text (not UTF-8)", "the file may be damaged") from None
    except ValueError as exc:
        raise UsageError(f"{name} is not valid JSON ({exc})", "the file may be truncated or damaged") from None
    else:
        deep = json_depth_exceeds(value)
    if deep:
        raise UsageError(
            f"{name} nests JSON more than {MAX_JSON_DEPTH} levels deep",
            "no model config nests that deep: it is damaged",
        )
    return value


def read_json_file(path: Path, what: str = "a JSON file") -> Any:
    """A JSON file's content, its size checked (regular file, under the cap) before it is read."""
    check_model_file(path, what, JSON_ENV, MAX_JSON_BYTES)
    return load_json(path.read_bytes(), path.name)


# --------------------------------------------------------------------------------------
# zip archives

SUPPORTED_COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


def check_zip(z: zipfile.ZipFile, archive: str, max_total: int | None = None) -> None:
    """Refuse, before anything is expanded, a zip whose members are encrypted, use another
    compression method, repeat a name, or declare sizes over the caps or the ratio."""
    total_cap = max_total if max_total is not None else size_cap(UNZIP_ENV, MAX_UNZIP_BYTES)
    seen: set[str] = set()
    total = 0
    for info in z.infolist():
        if info.filename in seen:
            raise UsageError(
                f"{archive} holds two entries named '{info.filename}'", "the archive is damaged or was tampered with"
            )
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise UsageError(
                f"{archive}: the entry '{info.filename}' is encrypted", "zooprof reads unencrypted archives only"
            )
        if info.compress_type not in SUPPORTED_COMPRESSION:
            raise UsageError(
                f"{archive}: the entry '{info.filename}' uses compression method {info.compress_type}",
                "zooprof reads stored or deflate-compressed entries; re-create the archive",
            )
        total += info.file_size
        if info.file_size > total_cap or total > total_cap:
            raise UsageError(
                f"{archive} unpacks to more than {total_cap:,} bytes",
                f"set {UNZIP_ENV} to a larger number of bytes if the archive is genuine",
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise UsageError(
                f"{archive}: the entry '{info.filename}' expands {info.file_size // max(info.compress_size, 1):,} "
                f"times ({info.file_size:,} bytes)",
                f"zooprof refuses entries that expand more than {MAX_ZIP_RATIO} times (a zip bomb)",
            )


def read_member(z: zipfile.ZipFile, name: str, archive: str, cap: int) -> bytes:
    """A member's bytes, refused above `cap` (declared and read)."""
    info = z.getinfo(name)
    if info.file_size > cap:
        raise UsageError(
            f"{archive}: {name} is {info.file_size:,} bytes, more than zooprof reads ({cap:,} bytes)",
            f"set {JSON_ENV} to a larger number of bytes if the file is genuine",
        )
    with z.open(info) as src:
        data = src.read(cap + 1)
    if len(data) > cap:
        raise UsageError(f"{archive}: {name} is larger than it declares", "the archive is damaged")
    return data


def copy_member(z: zipfile.ZipFile, name: str, dst: IO[bytes], cap: int, archive: str) -> int:
    """Copy a member into `dst` in chunks, stopping above `cap` bytes; the bytes written."""
    written = 0
    with z.open(name) as src:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > cap:
                raise UsageError(
                    f"{archive}: {name} expands to more than {cap:,} bytes",
                    f"set {UNZIP_ENV} to a larger number of bytes if the archive is genuine",
                )
            dst.write(chunk)
    return written
