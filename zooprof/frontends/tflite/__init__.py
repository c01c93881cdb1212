"""TFLite frontend: flatbuffers read with the standard library -> Graph."""
