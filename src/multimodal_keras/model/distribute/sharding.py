"""Each input pipeline's share of the training rows, and the steps of an epoch.

The inputs are arrays (in memory or memory-mapped), not files, so TensorFlow's
auto-sharding is turned off (``unsharded``) and ``worker_rows`` shards the rows before
they are batched and read. ``training.batch_size`` is per replica: the global batch is
that times the replicas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class Shard:
    """One input pipeline's share of the rows: ``index`` of ``count`` pipelines."""

    count: int
    index: int

    @classmethod
    def of(cls, context: tf.distribute.InputContext) -> Shard:
        """The share of the input pipeline TensorFlow describes with ``context``."""
        return cls(context.num_input_pipelines, context.input_pipeline_id)


def worker_rows(rows: tf.data.Dataset, shard: Shard | None) -> tf.data.Dataset:
    """The rows one input pipeline reads: all of them, or an endless share of them.

    ``rows`` holds one element per row, already shuffled with the seed every worker
    shares (row positions, or the rows themselves), and is sharded before it is batched,
    so that a worker reads only its own rows from memory-mapped arrays. It repeats before
    sharding so that every pipeline yields full batches forever and each epoch is a
    fixed number of steps: pipelines whose shares end at different steps would leave a
    replica an empty batch, which turns Keras' running loss into NaN. Each pass over the
    rows is shuffled anew, so no row is left out for good.
    """
    if shard is None:
        return rows
    return rows.repeat().shard(shard.count, shard.index)


def unsharded(data: tf.data.Dataset) -> tf.data.Dataset:
    """``data`` with TensorFlow's auto-sharding off: rows are arrays, not files to split."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return data.with_options(options)


def global_batch_size(batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """The rows of one step across all replicas, from the per-replica batch size."""
    return batch_size * strategy.num_replicas_in_sync


def steps_per_epoch(rows: int, batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """Steps that show every row once on average, full global batches each."""
    return max(1, math.ceil(rows / global_batch_size(batch_size, strategy)))
