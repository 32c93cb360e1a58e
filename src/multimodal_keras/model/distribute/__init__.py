"""Training on TensorFlow's distribution strategies: one device, all local devices, or a cluster.

``training.distribution.strategy`` picks one (``settings.py``):

- ``default``: one device, TensorFlow's default strategy; training as without this package.
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over every local GPU, or every logical
  CPU when there is none (``training.distribution.logical_cpus`` splits the CPU, to
  rehearse on one machine); Keras' ``fit`` splits each global batch across them.
- ``multi_worker``: ``tf.distribute.MultiWorkerMirroredStrategy`` over the machines that
  ``TF_CONFIG`` lists, each running ``kedro run --nodes train_model``; Keras 3's ``fit``
  fails under it, so a loop of our own trains (``loop.py``).

One module per concern:

- ``settings.py``: the ``training.distribution`` block, read and checked (``Distribution``);
- ``strategies.py``: the strategy, made once per process before TensorFlow starts
  (``prepare``, ``strategy_for``), and which loop it needs;
- ``cluster.py``: ``TF_CONFIG``: whether this process is the chief, which task it is;
- ``sharding.py``: each input pipeline's endless share of the rows, and an epoch's steps;
- ``replicas.py``: the model rebuilt in a strategy's scope and detached from it again;
- ``class_weights.py``: class weights as sample weights, for the loop of our own;
- ``validation.py``: validation after each epoch on each worker, the workers agreeing;
- ``loop.py``: ``fit_distributed`` (``fit`` or ``fit_in_steps``, the loop of our own).

In a Kedro run the untrained model's loading starts TensorFlow before the training node
runs, so ``DistributionHooks`` (hooks/distribution.py) calls ``prepare`` before the
pipeline runs, and the node's ``strategy_for`` returns the prepared strategy. Only the
chief writes: ``is_chief`` reads ``TF_CONFIG``, and the hook keeps a non-chief worker's
outputs in memory. Callers import from this package, not from its modules.
"""

from multimodal_keras.model.distribute.class_weights import add_class_weights
from multimodal_keras.model.distribute.cluster import TF_CONFIG, describe_task, is_chief
from multimodal_keras.model.distribute.loop import fit_distributed, fit_in_steps
from multimodal_keras.model.distribute.replicas import copy_variables, detach, rebuilt, replicate
from multimodal_keras.model.distribute.settings import (
    DEFAULT,
    MIRRORED,
    MULTI_WORKER,
    STRATEGIES,
    Distribution,
)
from multimodal_keras.model.distribute.sharding import (
    Shard,
    global_batch_size,
    steps_per_epoch,
    unsharded,
    worker_rows,
)
from multimodal_keras.model.distribute.strategies import (
    is_distributed,
    local_devices,
    make_strategy,
    prepare,
    runs_own_steps,
    split_cpu,
    strategy_for,
)
from multimodal_keras.model.distribute.validation import ValidationOnEachWorker

__all__ = [
    "DEFAULT",
    "MIRRORED",
    "MULTI_WORKER",
    "STRATEGIES",
    "TF_CONFIG",
    "Distribution",
    "Shard",
    "ValidationOnEachWorker",
    "add_class_weights",
    "copy_variables",
    "describe_task",
    "detach",
    "fit_distributed",
    "fit_in_steps",
    "global_batch_size",
    "is_chief",
    "is_distributed",
    "local_devices",
    "make_strategy",
    "prepare",
    "rebuilt",
    "replicate",
    "runs_own_steps",
    "split_cpu",
    "steps_per_epoch",
    "strategy_for",
    "unsharded",
    "worker_rows",
]
