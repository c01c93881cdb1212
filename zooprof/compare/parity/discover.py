"""Finding the formats of a model in a folder: which files are models, and which are Edge TPU files.

`discover(root)` walks the folder (hidden and __MACOSX entries and links aside) and returns the
model files in a stable order, with the names the report shows; zip archives are not opened,
only named in a note. Reads no model and imports no framework.
"""

from __future__ import annotations

from pathlib import Path

#: model files found in a folder, by suffix (model.json and SavedModel folders are named below)
MODEL_SUFFIXES = {".h5": "keras", ".hdf5": "keras", ".keras": "keras", ".tflite": "tflite", ".onnx": "onnx"}
#: how many folders down `discover` looks
MAX_DEPTH = 4


def is_edgetpu(path: Path) -> bool:
    """A .tflite compiled for the Edge TPU, told by its name (the compiler adds `_edgetpu`)."""
    return path.suffix.lower() == ".tflite" and "edgetpu" in path.name.lower()


def discover(root: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Model files under `root` (up to MAX_DEPTH folders down) -> ([(path, shown name)], notes).

    .h5/.hdf5/.keras, model.json (TF.js), .tflite, .onnx and SavedModel folders; Edge TPU files
    are returned too (marked by their name) so the caller can list them as not comparable."""
    found: list[tuple[str, str]] = []
    zips: list[str] = []
    frontier = [root]
    for _ in range(MAX_DEPTH + 1):
        nxt = []
        for folder in frontier:
            for child in sorted(folder.iterdir()):
                if child.name.startswith((".", "__MACOSX")) or child.is_symlink():
                    continue
                shown = str(child.relative_to(root))
                if child.is_dir():
                    if (child / "saved_model.pb").is_file():
                        found.append((str(child), shown + "/"))
                    else:
                        nxt.append(child)
                elif child.suffix.lower() in MODEL_SUFFIXES or child.name == "model.json":
                    found.append((str(child), shown))
                elif child.suffix.lower() == ".zip":
                    zips.append(shown)
        frontier = nxt
    if (root / "saved_model.pb").is_file():
        found.insert(0, (str(root), "./"))
    notes = []
    if zips:
        notes.append(
            f"not searched: {', '.join(zips[:4])}{' ...' if len(zips) > 4 else ''} (zip archives: unzip "
            "them into the folder, or give each as its own argument)"
        )
    return found, notes


def listing(root: Path) -> str:
    """What a folder without models holds, for the error message: 'files: a, b ...' or 'it is empty'."""
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    if not files:
        return "it is empty"
    return "files: " + ", ".join(files[:6]) + (" ..." if len(files) > 6 else "")
