"""Project settings. See https://docs.kedro.org/en/stable/configure/configuration_basics/."""

import warnings

# Modality artifacts are named <namespace>.<name> on purpose: that is Kedro's namespacing.
warnings.filterwarnings("ignore", message="One or more dataset names contain '.'")

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
