"""``TunedParameterHooks``: the search space checked, and the tuned settings used, before any
node runs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline

from multimodal_keras import integrity
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.hooks.catalog import replace_parameters

logger = logging.getLogger("multimodal_keras.hooks")

TUNED_PARAMETERS = "tuned_parameters"  # the catalog's entry of the search's result
SEARCHED_BLOCKS = ("model", "training")


class TunedParameterHooks:
    """The search's parameters, before any node runs: its space checked, its result used.

    A run that reads ``params:tuning`` (``kedro run --pipelines tuning``) has every entry of
    the search space checked against the parameter it sets (search_space.py), so that a bad
    entry stops it with one sentence before any data loads. A run with
    ``training.use_tuned`` true trains with the latest ``tuned_parameters`` (or the version
    ``--load-versions`` names): its settings replace the configured ones, except those
    given with ``--params``, in ``parameters`` and in every ``params:`` entry; the merged
    parameters are checked again, and ``parameters["tuned_parameters"]`` records the
    version and the settings for metrics.json and the run report. With ``use_tuned``
    false the run's parameters are left exactly as they are.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        if "parameters" not in catalog:
            return
        from multimodal_keras import search_space

        params = catalog.load("parameters")
        reads = pipeline.inputs()
        if "params:tuning" in reads and isinstance(params.get("tuning"), Mapping):
            search_space.check_space(params["tuning"]["space"], params["model"], params["training"])
        if not (params.get("training") or {}).get("use_tuned") or not reads_searched(reads):
            return
        record = load_tuned(catalog, run_params)
        given = set(search_space.flattened(run_params.get("runtime_params") or {}))
        settings = {path: value for path, value in record["settings"].items() if path not in given}
        merged = merged_parameters(params, settings, record["version"])
        merged[search_space.TUNED_RECORD] = {"version": record["version"], "settings": settings}
        replace_parameters(catalog, merged)
        logger.info(
            "Training with the tuned settings of `%s` %s: %s.",
            TUNED_PARAMETERS,
            record["version"],
            ", ".join(f"{path} {value!r}" for path, value in settings.items()) or "none",
        )


def reads_searched(reads: set[str]) -> bool:
    """True when a pipeline reads the parameters a search sets (model, training)."""
    return "parameters" in reads or any(
        name == f"params:{block}" or name.startswith(f"params:{block}.")
        for name in reads
        for block in SEARCHED_BLOCKS
    )


def load_tuned(catalog: Any, run_params: Mapping[str, Any]) -> dict[str, Any]:
    """The latest (or chosen) ``tuned_parameters``: its version and its dotted settings."""
    from multimodal_keras.search_space import flattened

    dataset = catalog.get(TUNED_PARAMETERS)
    env = run_params.get("env")
    env_flag = f" --env {env}" if env and env not in ("local", "base") else ""
    if dataset is None or not dataset.exists():
        where = "not in the catalog" if dataset is None else integrity.describe_location(dataset)
        raise MultimodalKerasError(
            f"training.use_tuned is true, but `{TUNED_PARAMETERS}` has not been written yet "
            f"({where}): search first with `kedro run --pipelines tuning{env_flag}`, or run "
            "without `--params training.use_tuned=true`."
        )
    version = dataset.resolve_load_version() if hasattr(dataset, "resolve_load_version") else None
    return {"version": version, "settings": flattened(dataset.load() or {})}


def merged_parameters(
    params: Mapping[str, Any], settings: Mapping[str, Any], version: str | None
) -> dict[str, Any]:
    """The run's parameters with the tuned settings in place, checked against the schema."""
    from multimodal_keras import parameters, search_space

    for path in settings:
        found, _ = search_space.lookup(params, path)
        if not found or path.split(".", maxsplit=1)[0] not in SEARCHED_BLOCKS:
            raise MultimodalKerasError(
                f"`{TUNED_PARAMETERS}` {version} sets `{path}`, which is not a model or "
                "training parameter of this project; search again with `kedro run "
                "--pipelines tuning`, or run without `--params training.use_tuned=true`."
            )
    merged = search_space.with_settings(params, settings)
    problems = parameters.problems(merged)
    if problems:
        raise MultimodalKerasError(
            f"The settings of `{TUNED_PARAMETERS}` {version} do not fit this project's "
            f"parameters ({'; '.join(problems)}); search again with `kedro run --pipelines "
            "tuning`, or run without `--params training.use_tuned=true`."
        )
    return merged
