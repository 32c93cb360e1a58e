"""Reading a project's configuration in tests, as ``kedro run`` resolves and merges it."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from multimodal_keras.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

PROJECT_CONF = Path(__file__).resolve().parents[1] / "conf"


def load_conf(key: str, conf: Path = PROJECT_CONF, environment: str = "base") -> dict[str, Any]:
    """``key`` (``parameters``, ``catalog``) of ``conf/<environment>`` merged over base.

    Each call reads the files afresh, so callers may change what it returns.
    """
    with warnings.catch_warnings():
        # OmegaConf's notice about how Kedro registers its resolvers is not ours to act on.
        warnings.simplefilter("ignore", UserWarning)
        loader = CONFIG_LOADER_CLASS(
            str(conf),
            base_env="base",
            default_run_env=environment,
            merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
        )
        return dict(loader[key])
