"""Project hooks, one lifecycle concern per module; ``settings.py`` registers them.

- ``node_records.py``: ``NodeRecordHooks``, a line per node with what it read and wrote
  (``shapes.py``), its wall time and its peak memory (``memory.py``), all saved after the
  run through the catalog's ``run_timings`` entry;
- ``run_records.py``: ``RunRecordHooks``, metrics, figures, the model and the report
  logged to MLflow when the optional ``mlflow`` extra (kedro-mlflow) is installed and has
  started a run; without it, nothing;
- ``distribution.py``: ``DistributionHooks``, no ``ParallelRunner``, the configured
  distribution strategy set up before a run that trains loads any data, and a non-chief
  worker's outputs kept off disk;
- ``parameter_check.py``: ``ParameterHooks``, the parameters checked against their schema
  (parameters.py) first;
- ``tuned_parameters.py``: ``TunedParameterHooks``, the search space checked and, with
  ``training.use_tuned``, the tuned settings merged into the parameters;
- ``parameter_records.py``: ``ParameterRecordHooks``, the parameters every saved artifact
  was made with (``parameter_records``), and a warning when a run reuses an artifact made
  with other values than its own;
- ``run_integrity.py``: ``RunIntegrityHooks``, one run at a time per environment, inputs
  that exist, and the artifacts the model was trained from (integrity.py);
- ``catalog.py``: the catalog entries these hooks replace during a run, replaced quietly.

Every hook logs under the ``multimodal_keras.hooks`` logger.
"""

from multimodal_keras.hooks.distribution import DistributionHooks
from multimodal_keras.hooks.memory import peak_memory_mib, reset_peak_memory
from multimodal_keras.hooks.node_records import NodeRecordHooks
from multimodal_keras.hooks.parameter_check import ParameterHooks
from multimodal_keras.hooks.parameter_records import ParameterRecordHooks
from multimodal_keras.hooks.run_integrity import RunIntegrityHooks
from multimodal_keras.hooks.run_records import RunRecordHooks, mlflow_installed, numeric_leaves
from multimodal_keras.hooks.shapes import describe_data, shape_of
from multimodal_keras.hooks.tuned_parameters import TunedParameterHooks

__all__ = [
    "DistributionHooks",
    "NodeRecordHooks",
    "ParameterHooks",
    "ParameterRecordHooks",
    "RunIntegrityHooks",
    "RunRecordHooks",
    "TunedParameterHooks",
    "describe_data",
    "mlflow_installed",
    "numeric_leaves",
    "peak_memory_mib",
    "reset_peak_memory",
    "shape_of",
]
