"""multimodal-keras: one multi-input Keras model from one mixed-type table, as a Kedro project."""

__version__ = "0.1.0"
