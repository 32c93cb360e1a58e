"""``ParameterHooks``: the run's parameters checked against their schema before any node."""

from __future__ import annotations

from typing import Any

from kedro.framework.hooks import hook_impl


class ParameterHooks:
    """Checks the run's merged parameters against their schema before any node runs."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, catalog: Any) -> None:
        if "parameters" in catalog:
            from multimodal_keras import parameters

            parameters.check(catalog.load("parameters"))
