"""The layer-handler registry: Keras class name -> handler (see `zooprof.frontends.keras.call`
for the handler contract), merged from the per-family modules; `handler_for`, which also
routes Keras 3's keras.ops nodes to their own handlers; and `is_custom`, which tells a Keras
built-in class (or a layer keras.applications defines) from user code (refused without --trust)."""

from __future__ import annotations

from typing import Any

from zooprof.frontends.keras import layers_apps, layers_conv, layers_core, layers_shape, layers_uncounted
from zooprof.frontends.keras.constants import KNOWN_UNSUPPORTED, MODEL_CLASSES

HANDLERS: dict[str, Any] = {
    **layers_conv.HANDLERS,
    **layers_core.HANDLERS,
    **layers_shape.HANDLERS,
    **layers_uncounted.HANDLERS,
    **layers_apps.HANDLERS,
}


def handler_for(entry: dict[str, Any], kwargs: dict[str, Any]) -> Any | None:
    """The handler of one call of a layer entry; None for a class without one (uncounted). A
    keras.ops node never takes the handler of the layer class of the same name (Add, Multiply)."""
    cls = str(entry.get("class_name"))
    if layers_apps.is_op_node(entry, kwargs):
        return layers_apps.OP_NODES.get(cls)
    return HANDLERS.get(cls)


def is_custom(entry: dict[str, Any]) -> bool:
    """A class that is not Keras' own: its module (Keras 3) says so, or zooprof does not know it.
    Without a module (.h5), a keras.applications layer is known by its class and config keys."""
    module = entry.get("module")
    cls = entry.get("class_name", "")
    registered = entry.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        return True
    if isinstance(module, str) and module:  # Keras 3 (and tf_keras .keras) name the class's module
        return not module.startswith(("keras", "tf_keras", "tensorflow"))
    if cls in layers_apps.APP_LAYERS:
        return not layers_apps.is_app_layer(entry)
    return cls not in HANDLERS and cls not in KNOWN_UNSUPPORTED and cls not in MODEL_CLASSES
