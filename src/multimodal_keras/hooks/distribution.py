"""``DistributionHooks``: where training runs, set up before any data loads."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import SharedMemoryDataCatalog
from kedro.pipeline import Pipeline

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.hooks.catalog import keep_outputs_in_memory

logger = logging.getLogger("multimodal_keras.hooks")

TRAINING_PARAMETERS = "params:training"


def refuse_parallel_runner(catalog: Any) -> None:
    """Raise when the run uses ParallelRunner.

    Kedro's session gives ParallelRunner, and no other runner, a ``SharedMemoryDataCatalog``,
    so the catalog's type says which runner will run, whatever the runner is called.
    """
    if isinstance(catalog, SharedMemoryDataCatalog):
        raise MultimodalKerasError(
            "ParallelRunner cannot run this project, because it runs nodes in forked "
            "processes where TensorFlow hangs once the parent process has started it and "
            "no distribution strategy can follow; run with SequentialRunner (the default) "
            "or ThreadRunner (`kedro run --runner ThreadRunner`)."
        )


class DistributionHooks:
    """Where training runs: the runner, the distribution strategy, and who writes.

    Before a run whose pipeline reads ``params:training``, it creates the configured
    strategy (model/distribute/): TensorFlow accepts logical CPUs and the multi-worker
    strategy only before it starts, and the run starts it when it loads the untrained
    model. Under ``multi_worker``, a worker that ``TF_CONFIG`` does not name chief runs
    the same nodes with every dataset it would write replaced by an in-memory one, so
    that only the chief writes models, metrics, reports and timings.
    """

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        refuse_parallel_runner(catalog)
        if TRAINING_PARAMETERS not in pipeline.inputs():
            return
        # Imported here: TensorFlow loads only for a run that trains.
        from multimodal_keras.model import distribute

        distribution = distribute.Distribution.from_training(catalog.load(TRAINING_PARAMETERS))
        if distribution == distribute.Distribution():
            return
        strategy = distribute.prepare(distribution)
        logger.info(
            "Training with the %s strategy on %d replica(s).",
            distribution.strategy,
            strategy.num_replicas_in_sync,
        )
        if distribution.strategy == distribute.MULTI_WORKER and not distribute.is_chief():
            kept = keep_outputs_in_memory(pipeline, catalog)
            logger.info(
                "This process is %s, not the chief: the %d datasets it could write stay "
                "in memory, and the chief writes them.",
                distribute.describe_task(),
                len(kept),
            )
