"""Project settings. See https://docs.kedro.org/en/stable/configure/configuration_basics/."""

import warnings

from multimodal_keras.config_loader import ProjectConfigLoader
from multimodal_keras.hooks import (
    DistributionHooks,
    NodeRecordHooks,
    ParameterHooks,
    ParameterRecordHooks,
    RunIntegrityHooks,
    RunRecordHooks,
    TunedParameterHooks,
)
from multimodal_keras.terminal import TerminalHooks

# Modality artifacts are named <namespace>.<name> on purpose: that is Kedro's namespacing.
warnings.filterwarnings("ignore", message="One or more dataset names contain '.'")
# OmegaConf's notice about how Kedro's config loader registers resolvers; not for users.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")

# A line per node with its shapes, time and peak memory, saved to the run_timings dataset;
# when the mlflow extra is installed, the run's metrics, figures, model and report; and
# the distribution strategy, set up before any data loads (and no ParallelRunner); and one
# run at a time per environment, with inputs that exist and match the model's lineage.
# The parameters are checked first: Kedro calls the last of equally early hooks first.
# The terminal: verbosity (set before TensorFlow loads) and the run's closing summary,
# naming the artifacts below where this run wrote them.
PARAMETER_RECORDS = ParameterRecordHooks()  # the model's lineage asks it what made the model
HOOKS = (
    TerminalHooks(
        metrics_dataset="metrics",
        written={
            "trained_model": "model",
            "run_report": "report",
            "test_predictions": "test predictions",
            "predictions": "predictions",
            "serving_model": "serving model",
            "tuned_parameters": "tuned parameters",
            "tuning_trials": "tuning trials",
        },
    ),
    RunIntegrityHooks(made_with=PARAMETER_RECORDS.parameters_of),
    PARAMETER_RECORDS,
    NodeRecordHooks(timings_dataset="run_timings"),
    RunRecordHooks(),
    DistributionHooks(),
    # After the parameter check, before the run's inputs are checked: the search space, and
    # the tuned settings a run with training.use_tuned trains with.
    TunedParameterHooks(),
    ParameterHooks(),
)

# Each environment's artifacts under data/<env>/ (data/ for local and base): config_loader.py.
CONFIG_LOADER_CLASS = ProjectConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment's parameters merge key by key into base's, so conf/<env>/ holds only
    # what differs (e.g. `text: {columns: []}` keeps base's other text settings). Catalog
    # entries still replace base's whole: an entry is one dataset, best read in one place.
    "merge_strategy": {"parameters": "soft"},
}
