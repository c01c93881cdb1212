"""Keras frontend: Keras 2/3 and tfjs-layers model configs -> Graph, in pure Python."""
