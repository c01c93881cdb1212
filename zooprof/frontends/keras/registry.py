"""The layer-handler registry: Keras class name -> handler (see `zooprof.frontends.keras.call`
for the handler contract), merged from the per-family modules, and `is_custom`, which tells a
Keras built-in class from user code (refused without --trust)."""

from __future__ import annotations

from typing import Any

from zooprof.frontends.keras import layers_conv, layers_core, layers_shape, layers_uncounted
from zooprof.frontends.keras.constants import KNOWN_UNSUPPORTED, MODEL_CLASSES

HANDLERS: dict[str, Any] = {
    **layers_conv.HANDLERS,
    **layers_core.HANDLERS,
    **layers_shape.HANDLERS,
    **layers_uncounted.HANDLERS,
}


def is_custom(entry: dict[str, Any]) -> bool:
    """A class that is not Keras' own: its module (Keras 3) says so, or zooprof does not know it."""
    module = entry.get("module")
    cls = entry.get("class_name", "")
    registered = entry.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        return True
    if isinstance(module, str) and module:  # Keras 3 (and tf_keras .keras) name the class's module
        return not module.startswith(("keras", "tf_keras", "tensorflow"))
    return cls not in HANDLERS and cls not in KNOWN_UNSUPPORTED and cls not in MODEL_CLASSES
