"""multimodal-keras: one multi-input Keras model from one mixed-type table, as a Kedro project."""

import os

from multimodal_keras.terminal import TF_ALL, TF_FATAL_ONLY, TF_LOG_LEVEL, quiet_tensorflow_import

# TensorFlow's C++ log lines, and its "errors" that are not: "failed call to cuInit" on a
# machine without a GPU, oneDNN's uint8 fallback. Problems that matter still raise Python
# errors. Set before TensorFlow is first imported, as are the start-up lines it writes
# before its logging starts (terminal.py); TF_CPP_MIN_LOG_LEVEL=0 shows them all again.
os.environ.setdefault(TF_LOG_LEVEL, TF_FATAL_ONLY)
if os.environ[TF_LOG_LEVEL] != TF_ALL:
    quiet_tensorflow_import()

__version__ = "0.1.0"
