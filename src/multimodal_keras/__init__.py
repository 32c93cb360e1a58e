"""multimodal-keras: one multi-input Keras model from one mixed-type table, as a Kedro project."""

import os

# TensorFlow's C++ log lines, and its "errors" that are not: "failed call
# to cuInit" on a machine without a GPU, oneDNN's uint8 fallback. Problems that matter still
# raise Python errors. Set before TensorFlow is first imported; TF_CPP_MIN_LOG_LEVEL=0 shows
# them all again. (A few start-up lines TensorFlow writes before its logging starts remain.)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
