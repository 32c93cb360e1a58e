"""Searching the model's settings with KerasTuner, every trial trained as ``kedro run`` trains.

KerasTuner's oracles (random search, Bayesian optimisation) draw the settings, keep the
search's state on disk and resume it; this module gives them the project's own training
as the trial: the model built by ``assemble_model`` from the fitted preprocessors and
trained by ``fit_model`` (early stopping, learning-rate schedule, distribution strategy)
on the training rows, scored by the task's monitored validation metric
(``train.monitored``) at its best epoch. The test rows are never given to it.

- **Limits.** ``max_trials`` counts every trial of the search, ``budget_minutes`` the
  seconds of its trials, across interruptions: no trial starts once the budget is spent,
  and a trial running when it runs out stops at the end of that epoch and is scored on
  its best epoch so far (status ``stopped_by_budget``).
- **State.** ``tuning.directory`` holds one folder per search, named by a digest of what
  decides its trials: the space, the algorithm, the seed, the other model and training
  settings, and the training and validation rows' inputs. The same command with the same
  inputs resumes that search (an interrupted trial runs again, from its start); anything
  else starts a new one. Raising ``max_trials`` or ``budget_minutes`` extends a search.
- **Determinism.** The oracle is seeded from ``params:seed`` and every trial trains with
  it, so the same seed, space and data give the same trials and scores.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import keras
import keras_tuner
import numpy as np
import pandas as pd
import tensorflow as tf
from keras_tuner.engine.base_tuner import BaseTuner
from keras_tuner.engine.trial import Trial, TrialStatus

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.model import distribute
from multimodal_keras.model.build import assemble_model
from multimodal_keras.model.inputs import RowBatches
from multimodal_keras.model.train import fit_model, monitored
from multimodal_keras.search_space import (
    CHOICE,
    FLOAT,
    INT,
    LOG_FLOAT,
    TRIAL_COLUMNS,
    SearchEntry,
    describe_value,
    lookup,
    with_settings,
)
from multimodal_keras.targets import TargetEncoder
from multimodal_keras.terminal import records_dropped

logger = logging.getLogger(__name__)

COMPLETED, STOPPED_BY_BUDGET, FAILED = "completed", "stopped_by_budget", "failed"
EPOCHS, SECONDS, CUT_SHORT = "epochs", "seconds", "cut_short"
SECONDS_PER_MINUTE = 60.0
# KerasTuner draws a seed of its own when given 0, so its oracle gets the run's seed plus one.
ORACLE_SEED_OFFSET = 1
# Training settings left out of a search's name: they change what training prints, or
# whether a run reads the search's result, not the trials.
UNNAMED_TRAINING = ("verbose", "use_tuned")
DIGEST_ROWS = 4096  # rows read at a time while the rows' inputs are hashed
NAME_DIGITS = 16  # hexadecimal digits of the digest in a search's folder name
# How KerasTuner's error begins when max_consecutive_failed_trials trials failed in a row.
CONSECUTIVE_FAILURES = "Number of consecutive failures exceeded"


# ---------------------------------------------------------------------------------------
# The space, as KerasTuner's hyperparameters


@dataclass(frozen=True)
class Dimension:
    """One searched setting: its KerasTuner hyperparameter and the values it stands for.

    KerasTuner's ``Choice`` takes values of one type among int, float, str and bool; a
    choice of anything else (lists of units, null, mixed types) is offered as the values'
    YAML text, and each text maps back to its value.
    """

    path: str
    entry: SearchEntry

    @property
    def native(self) -> bool:
        """True when KerasTuner takes the choice's values as they are."""
        kinds = {type(value) for value in self.entry.values or []}
        return kinds == {int, float} or (len(kinds) == 1 and kinds <= {int, float, str, bool})

    @property
    def labels(self) -> dict[Any, Any]:
        """KerasTuner's value of each choice, mapped to the setting's value."""
        values = list(self.entry.values or [])
        if not self.native:
            return {describe_value(value): value for value in values}
        if {type(value) for value in values} == {int, float}:
            return {float(value): value for value in values}
        return {value: value for value in values}

    def declare(self, hyperparameters: keras_tuner.HyperParameters) -> None:
        """Add this setting to KerasTuner's search space."""
        entry = self.entry
        if entry.kind == CHOICE:
            hyperparameters.Choice(self.path, list(self.labels))
        elif entry.kind == INT:
            step = int(entry.step) if entry.step else 1
            hyperparameters.Int(self.path, int(entry.min or 0), int(entry.max or 0), step=step)
        elif entry.kind == LOG_FLOAT:
            hyperparameters.Float(self.path, entry.min, entry.max, sampling="log")
        else:
            hyperparameters.Float(self.path, entry.min, entry.max, step=entry.step)

    def value(self, drawn: Any) -> Any:
        """The setting's value for what KerasTuner drew; a point of a float grid is written
        with the grid's own decimals (0.3, where KerasTuner's min + 3 × step gives
        0.30000000000000004)."""
        entry = self.entry
        if entry.kind == CHOICE:
            return self.labels[drawn]
        if entry.kind == INT:
            return int(drawn)
        if entry.kind == FLOAT and entry.step is not None:
            return round(float(drawn), max(decimals(entry.min), decimals(entry.step)))
        return float(drawn)

    def drawn_for(self, value: Any) -> tuple[bool, Any]:
        """(whether the space holds it, KerasTuner's value) for a value of the setting."""
        entry = self.entry
        if entry.kind == CHOICE:
            for drawn, choice in self.labels.items():
                if choice == value and type(choice) is type(value):
                    return True, drawn
            return False, None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False, None
        inside = float(entry.min or 0) <= value <= float(entry.max or 0)
        if entry.kind == INT:
            return inside and float(value).is_integer(), int(value)
        return inside, float(value)

    def shown(self, drawn: Any) -> Any:
        """The value as the trials table holds it: a number, a bool or a name, or the YAML
        text of every value of a choice KerasTuner takes as text (one type per column)."""
        value = self.value(drawn)
        if self.entry.kind == CHOICE and not self.native:
            return describe_value(value)
        return value


def decimals(number: float | None) -> int:
    """How many decimals a number has as written: 2 for 0.05, 0 for 3.0."""
    exponent = Decimal(repr(float(number or 0))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def dimensions_of(entries: Mapping[str, SearchEntry]) -> list[Dimension]:
    """One dimension per searched setting, in the space's order."""
    return [Dimension(path, entry) for path, entry in entries.items()]


def hyperparameters(dimensions: list[Dimension]) -> keras_tuner.HyperParameters:
    """KerasTuner's search space."""
    space = keras_tuner.HyperParameters()
    for dimension in dimensions:
        dimension.declare(space)
    return space


# ---------------------------------------------------------------------------------------
# Oracles: the configured settings first, within the time budget


class BudgetedOracle:
    """Mixin for a KerasTuner oracle: the configured settings first, and no trial once
    ``deadline`` has passed.

    ``configured`` holds KerasTuner's values of the run's own settings when the space holds
    every one of them: the search's first trial trains them, so that its best never scores
    below the configuration on the validation rows (unless the budget cuts that trial short).
    """

    deadline: float | None = None
    configured: dict[str, Any] | None = None

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return {"status": TrialStatus.STOPPED, "values": None}
        if self.configured is not None and not self.trials:  # type: ignore[attr-defined]
            return {"status": TrialStatus.RUNNING, "values": dict(self.configured)}
        return super().populate_space(trial_id)  # type: ignore[misc]


class RandomSearchOracle(BudgetedOracle, keras_tuner.oracles.RandomSearchOracle):
    """KerasTuner's random search, within the time budget."""


class BayesianOptimizationOracle(BudgetedOracle, keras_tuner.oracles.BayesianOptimizationOracle):
    """KerasTuner's Bayesian optimisation (a Gaussian process), within the time budget."""


ORACLES = {"random": RandomSearchOracle, "bayesian": BayesianOptimizationOracle}


class StopAtDeadline(keras.callbacks.Callback):
    """Ends training after the epoch during which the search's time ran out."""

    def __init__(self, deadline: float | None) -> None:
        super().__init__()
        self.deadline = deadline
        self.stopped = False

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.model.stop_training = True
            self.stopped = True


# ---------------------------------------------------------------------------------------
# One trial: the project's model and training


@dataclass(frozen=True)
class TrialData:
    """What every trial trains and is scored on: never the test rows."""

    preprocessors: Mapping[str, Any]
    target: TargetEncoder
    train: RowBatches
    validation: RowBatches


@dataclass(frozen=True)
class FixedSettings:
    """The run's model and training parameters, which each trial's settings change."""

    model: Mapping[str, Any]
    training: Mapping[str, Any]
    seed: int


def train_trial(
    settings: Mapping[str, Any],
    data: TrialData,
    fixed: FixedSettings,
    strategy: tf.distribute.Strategy,
    deadline: float | None,
) -> dict[str, float]:
    """Build and train the model with ``settings``; its best validation score and epochs.

    The model is built as the training pipeline's ``build_model`` builds it (the seed set,
    then ``assemble_model``) and trained by ``fit_model`` as ``train_model`` trains it, so
    ``kedro run --params training.use_tuned=true`` retrains the best trial's model.
    """
    blocks = with_settings({"model": fixed.model, "training": fixed.training}, settings)
    training = dict(blocks["training"])
    if training.get("verbose", "auto") == "auto":
        training["verbose"] = 0  # a line per trial, not one per epoch of every trial
    keras.utils.set_random_seed(fixed.seed)
    model = assemble_model(data.preprocessors, data.target, blocks["model"])
    model = distribute.replicate(model, strategy)
    stop = StopAtDeadline(deadline)
    history = fit_model(
        model,
        data.target,
        data.train,
        data.validation,
        training,
        fixed.seed,
        callbacks=[stop],
        strategy=strategy,
    )
    name, mode = monitored(data.target, training)
    scores = history[name]
    return {
        name: float(max(scores) if mode == "max" else min(scores)),
        EPOCHS: float(len(history["loss"])),
        CUT_SHORT: float(stop.stopped),
    }


class ProjectTuner(BaseTuner):
    """KerasTuner's search loop, with the project's training as each trial."""

    def __init__(
        self,
        oracle: keras_tuner.Oracle,
        train: Callable[[dict[str, Any]], dict[str, float]],
        report: Callable[[Trial], None],
        directory: str,
        project_name: str,
    ) -> None:
        self._train = train
        self._report = report
        super().__init__(oracle=oracle, directory=directory, project_name=project_name)

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> dict[str, float]:
        started = time.perf_counter()
        try:
            results = self._train(dict(trial.hyperparameters.values))
        except MultimodalKerasError as error:
            # A problem the user must fix stops the search, with the project's sentence.
            raise keras_tuner.errors.FatalError(str(error)) from error
        return {**results, SECONDS: time.perf_counter() - started}

    def on_trial_end(self, trial: Trial) -> None:
        super().on_trial_end(trial)
        self._report(self.oracle.get_trial(trial.trial_id))


# ---------------------------------------------------------------------------------------
# The search


def quiet_retracing() -> contextlib.AbstractContextManager[None]:
    """TensorFlow's warning that a function was traced again left out of the log meanwhile:
    each trial builds a new model, whose training steps are traced anew by design."""
    return records_dropped(
        "tensorflow", lambda message: "triggered tf.function retracing" in message
    )


def search_name(
    entries: Mapping[str, SearchEntry],
    tuning: Mapping[str, Any],
    fixed: FixedSettings,
    data: TrialData,
) -> str:
    """The folder name of the search these settings and rows make: a digest of them."""
    described = {
        "space": {path: entry.drawn() for path, entry in entries.items()},
        "algorithm": tuning["algorithm"],
        "seed": fixed.seed,
        "model": fixed.model,
        "training": {k: v for k, v in fixed.training.items() if k not in UNNAMED_TRAINING},
    }
    digest = hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode())
    for rows in (data.train, data.validation):
        digest.update(np.ascontiguousarray(rows.positions).tobytes())
        digest.update(np.ascontiguousarray(rows.row_targets).tobytes())
        for name in sorted(rows.arrays):
            array = rows.arrays[name]
            for start in range(0, len(rows.positions), DIGEST_ROWS):
                block = array[rows.positions[start : start + DIGEST_ROWS]]
                digest.update(np.ascontiguousarray(block).tobytes())
    return f"search_{digest.hexdigest()[:NAME_DIGITS]}"


def last_line(message: str) -> str:
    """The last line of a failure's message (a traceback's names the exception)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def metric_of(trial: Trial, name: str) -> float | None:
    """A trial's last reported value of a metric, or None."""
    if not trial.metrics.exists(name):
        return None
    value = trial.metrics.get_last_value(name)
    return None if value is None else float(value)


def status_of(trial: Trial) -> str:
    """``completed``, ``stopped_by_budget`` or ``failed``."""
    if trial.status != TrialStatus.COMPLETED:
        return FAILED
    return STOPPED_BY_BUDGET if metric_of(trial, CUT_SHORT) else COMPLETED


def shown_settings(dimensions: list[Dimension], trial: Trial) -> dict[str, Any]:
    """A trial's settings as the trials table holds them."""
    values = trial.hyperparameters.values
    return {d.path: d.shown(values[d.path]) for d in dimensions if d.path in values}


def brief_settings(settings: Mapping[str, Any]) -> str:
    """Settings on one line: ``training.learning_rate 0.0021, model.fusion.units [128, 64]``."""
    return ", ".join(
        f"{path} {f'{value:.4g}' if isinstance(value, float) else describe_value(value)}"
        for path, value in settings.items()
    )


def configured_values(dimensions: list[Dimension], fixed: FixedSettings) -> dict[str, Any] | None:
    """KerasTuner's values of the run's own settings, or None when one lies outside the space."""
    blocks = {"model": fixed.model, "training": fixed.training}
    values = {}
    for dimension in dimensions:
        found, value = lookup(blocks, dimension.path)
        held, drawn = dimension.drawn_for(value) if found else (False, None)
        if not held:
            return None
        values[dimension.path] = drawn
    return values


@dataclass
class SearchResult:
    """The trials of a search, in the order they started, and the best trial's settings."""

    trials: pd.DataFrame
    best: dict[str, Any]


def trials_table(
    oracle: keras_tuner.Oracle, dimensions: list[Dimension], metric: str, direction: str
) -> pd.DataFrame:
    """One row per trial: its number, status, settings, score, epochs and seconds."""
    rows = []
    for number, trial_id in enumerate(oracle.start_order, start=1):
        trial = oracle.get_trial(trial_id)
        status = status_of(trial)
        epochs = metric_of(trial, EPOCHS)
        rows.append(
            {
                "trial": number,
                "status": status,
                **shown_settings(dimensions, trial),
                "metric": metric,
                "direction": direction,
                "score": None if status == FAILED else trial.score,
                "epochs": None if epochs is None else int(epochs),
                "seconds": metric_of(trial, SECONDS),
            }
        )
    settings = [d.path for d in dimensions]
    order = [*TRIAL_COLUMNS[:2], *settings, *TRIAL_COLUMNS[2:]]
    return pd.DataFrame(rows, columns=order)


def search(
    entries: Mapping[str, SearchEntry],
    data: TrialData,
    fixed: FixedSettings,
    tuning: Mapping[str, Any],
    strategy: tf.distribute.Strategy,
) -> SearchResult:
    """Search the settings of ``entries`` within ``tuning``'s limits; resume when possible.

    Args:
        entries: The checked search space (``search_space.check_space``).
        data: The preprocessors, the target encoding, the training and validation rows.
        fixed: ``params:model``, ``params:training`` and ``params:seed``.
        tuning: ``params:tuning``: algorithm, max_trials, budget_minutes, directory.
        strategy: The distribution strategy every trial trains under.

    Returns:
        Every trial and the best completed trial's settings (dotted paths to values).
    """
    dimensions = dimensions_of(entries)
    metric, direction = monitored(data.target, fixed.training)
    oracle = ORACLES[tuning["algorithm"]](
        objective=keras_tuner.Objective(metric, direction=direction),
        max_trials=tuning["max_trials"],
        hyperparameters=hyperparameters(dimensions),
        allow_new_entries=False,
        tune_new_entries=False,
        seed=fixed.seed + ORACLE_SEED_OFFSET,
        max_consecutive_failed_trials=int(tuning["max_consecutive_failed_trials"]),
    )
    by_path = {d.path: d for d in dimensions}
    oracle.configured = configured_values(dimensions, fixed)

    def train(drawn: dict[str, Any]) -> dict[str, float]:
        settings = {path: by_path[path].value(value) for path, value in drawn.items()}
        return train_trial(settings, data, fixed, strategy, oracle.deadline)

    def report(trial: Trial) -> None:
        number = oracle.start_order.index(trial.trial_id) + 1
        status = status_of(trial)
        settings = brief_settings(shown_settings(dimensions, trial))
        if status == FAILED:
            cause = last_line(trial.message or "")
            logger.warning("Trial %d failed (%s); %s.", number, cause, settings)
            return
        leader = oracle.get_best_trials(1)[0]
        logger.info(
            "Trial %d%s: %s %.4f in %d epoch(s), %.1f s%s (best %.4f, trial %d); %s.",
            number,
            f" of {tuning['max_trials']}" if tuning["max_trials"] else "",
            metric,
            trial.score,
            int(metric_of(trial, EPOCHS) or 0),
            metric_of(trial, SECONDS) or 0.0,
            ", stopped by the budget" if status == STOPPED_BY_BUDGET else "",
            leader.score,
            oracle.start_order.index(leader.trial_id) + 1,
            settings,
        )

    name = search_name(entries, tuning, fixed, data)
    with contextlib.redirect_stdout(io.StringIO()):  # KerasTuner prints when it reloads
        tuner = ProjectTuner(oracle, train, report, str(tuning["directory"]), name)
    spent = sum(metric_of(trial, SECONDS) or 0.0 for trial in oracle.trials.values())
    budget, max_trials = tuning["budget_minutes"], tuning["max_trials"]
    if budget is not None:
        oracle.deadline = time.monotonic() + float(budget) * SECONDS_PER_MINUTE - spent
    limits = []
    if max_trials is not None:
        limits.append(f"{max_trials} trials")
    if budget is not None:
        limits.append(f"{float(budget):g} minutes")
    logger.info(
        "%s the %s search of %d setting(s) in %s/%s (%d trial(s) done, %.1f minutes spent; "
        "at most %s): each trial trains on %d rows and is scored by %s on %d validation rows.",
        "Resuming" if oracle.trials else "Starting",
        tuning["algorithm"],
        len(dimensions),
        tuning["directory"],
        name,
        len(oracle.end_order),
        spent / SECONDS_PER_MINUTE,
        " and ".join(limits),
        len(data.train),
        metric,
        len(data.validation),
    )
    if oracle.configured is not None and not oracle.trials:
        logger.info("Trial 1 trains the configured settings: the space holds every one.")
    with quiet_retracing():
        try:
            tuner.search(verbose=0)
        except RuntimeError as error:
            if not str(error).startswith(CONSECUTIVE_FAILURES):
                raise
            raise MultimodalKerasError(
                f"{tuning['max_consecutive_failed_trials']} trials in a row failed, the last "
                f"with {last_line(str(error))}; the log names each failed trial's settings: "
                "narrow tuning.space away from them, or raise "
                "tuning.max_consecutive_failed_trials."
            ) from error
    out_of_time = oracle.deadline is not None and time.monotonic() >= oracle.deadline
    if not out_of_time and (max_trials is None or len(oracle.trials) < max_trials):
        logger.info(
            "The search ended after %d trial(s): the space holds no combination it has not tried.",
            len(oracle.trials),
        )
    table = trials_table(oracle, dimensions, metric, direction)
    finished = oracle.get_best_trials(1)
    if not finished or finished[0].status != TrialStatus.COMPLETED:
        raise MultimodalKerasError(
            f"No trial of the search in {tuning['directory']}/{name} finished (the log "
            "names each failure); fix what the failures say, or delete that folder to "
            "start the search again."
        )
    values = finished[0].hyperparameters.values
    best = {path: by_path[path].value(values[path]) for path in by_path if path in values}
    logger.info(
        "Best of %d trial(s): %s %.4f (trial %d); %s. `kedro run --params "
        "training.use_tuned=true` in the same environment trains with these settings.",
        len(table),
        metric,
        finished[0].score,
        oracle.start_order.index(finished[0].trial_id) + 1,
        brief_settings(best),
    )
    return SearchResult(table, best)
