"""The node that writes the run report from what the other pipelines saved."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from multimodal_keras import report
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.model import figures
from multimodal_keras.model.train import best_epoch, monitored
from multimodal_keras.parameters import differences
from multimodal_keras.search_space import TUNED_RECORD, setting_columns
from multimodal_keras.splitting import SPLITS, split_positions
from multimodal_keras.targets import TargetEncoder

logger = logging.getLogger(__name__)


def made_with(parameters: Mapping[str, Any], lineage: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run's parameters, with each section the model's lineage records in place of the
    run's: the values the model and its artifacts were made with."""
    recorded = (lineage or {}).get("parameters") or {}
    merged = dict(parameters)
    for name, value in recorded.items():
        section = name.removeprefix("params:")
        if name.startswith("params:") and "." not in section:
            merged[section] = value
    return merged


def configuration_section(
    parameters: Mapping[str, Any], names: list[str], run_parameters: Mapping[str, Any]
) -> str:
    """The parameter sections the model was made with, each as YAML in a block that opens
    on a click, with the keys where this run's parameters say otherwise."""
    blocks = []
    for name in names:
        if name not in parameters:
            continue
        text = yaml.safe_dump({name: parameters[name]}, sort_keys=False, width=100)
        body = report.preformatted(text.rstrip())
        changed = differences(parameters[name], run_parameters.get(name), name)
        if changed:
            listed = ", ".join(f"{key} {current!r}" for key, _, current in changed)
            body = (
                report.paragraph(
                    f"This run's parameters say {listed}, but the model and the artifacts it was "
                    "made from used the values below (artifacts an earlier run wrote). `kedro run` "
                    "applies this run's values."
                )
                + body
            )
        blocks.append(report.details(name, body))
    return "".join(blocks)


def split_section(
    split_assignments: pd.DataFrame, encoded_target: pd.DataFrame, target: TargetEncoder
) -> str:
    """Rows per split and, for classification, rows per class in each split."""
    header = ["split", "rows"]
    if target.is_classification:
        header += [f"{target.column} = {label}" for label in target.classes]
    values = encoded_target["target"].to_numpy()
    groups = [(name, split_positions(split_assignments, name)) for name in SPLITS]
    groups.append(("all", np.arange(len(split_assignments))))
    rows = []
    for name, positions in groups:
        row: list[Any] = [name, len(positions)]
        if target.is_classification:
            counts = np.bincount(values[positions].astype(int), minlength=len(target.classes))
            row += counts.tolist()
        rows.append(row)
    return report.table(header, rows)


def preprocessing_section(preprocessors: Mapping[str, Any], max_items: int) -> str:
    """Each modality's fitted preprocessor, as its module's ``describe`` summarises it."""
    blocks = []
    for name, preprocessor in preprocessors.items():
        summary = MODALITIES[name].describe(preprocessor)
        blocks.append(report.subheading(name))
        if not summary.get("columns"):
            blocks.append(report.paragraph("No columns configured; not an input of the model."))
        else:
            blocks.append(report.key_values(summary, max_items))
    return "".join(blocks)


def learning_section(
    history: Mapping[str, list[float]],
    target_encoder: TargetEncoder,
    training: Mapping[str, Any],
    dpi: int,
) -> str:
    """The learning curves, and the epoch whose weights early stopping kept: the best of
    the metric it watched (``train.monitored``)."""
    monitor, mode = monitored(target_encoder, training)
    if monitor not in history:  # a history without it: where the loss was lowest
        monitor, mode = ("val_loss" if "val_loss" in history else "loss"), "min"
    best = best_epoch(history, monitor, mode)
    summary = report.paragraph(
        f"{len(history['loss'])} epoch(s); best {monitor} {history[monitor][best - 1]:.4f} "
        f"at epoch {best}, whose weights the model keeps."
    )
    curves = report.image(
        report.figure_png(figures.learning_curves(history), dpi), "Learning curves"
    )
    return summary + curves


def scalar_metrics(values: Mapping[str, Any]) -> dict[str, float | None]:
    """The metrics that are single numbers (or undefined), in their order."""
    return {
        name: value for name, value in values.items() if value is None or report.is_number(value)
    }


def metrics_section(metrics: Mapping[str, Any]) -> str:
    """Test metrics of the model, beside the baseline's when the metrics hold one."""
    model = scalar_metrics(metrics["model"])
    baseline = metrics.get("baseline")
    intro = report.paragraph(f"{metrics['task']} task, {metrics['test_rows']} test rows.")
    if not baseline:
        rows = [[name, value] for name, value in model.items()]
        note = report.paragraph("The metrics hold no baseline to compare with.", muted=True)
        return intro + report.table(["metric", "model"], rows) + note + tuned_note(metrics)
    baseline_values = scalar_metrics(baseline)
    estimator = metrics.get("baseline_estimator") or {}
    label = f"baseline ({estimator['estimator']})" if "estimator" in estimator else "baseline"
    names = list(dict.fromkeys([*model, *baseline_values]))
    rows = [[name, model.get(name), baseline_values.get(name)] for name in names]
    return intro + report.table(["metric", "model", label], rows) + tuned_note(metrics)


def tuned_note(metrics: Mapping[str, Any]) -> str:
    """The tuned settings the model trained with, when it did (``training.use_tuned``)."""
    tuned = metrics.get(TUNED_RECORD)
    if not tuned:
        return ""
    intro = report.paragraph(
        f"The model trained with the tuned settings of tuned_parameters {tuned['version']} "
        "(training.use_tuned), in place of the configured ones:"
    )
    rows = [[path, value] for path, value in tuned["settings"].items()]
    return intro + report.table(["setting", "tuned value"], rows)


def tuning_section(trials: pd.DataFrame, dpi: int) -> str:
    """The latest search of settings: its trials, the best one, and their figures."""
    table = trials.astype(object).where(trials.notna(), None)  # Python values, None for NaN
    done = table[table["score"].notna()]
    metric, direction = str(table["metric"].iloc[0]), str(table["direction"].iloc[0])
    settings = setting_columns(table)
    if done.empty:
        return report.paragraph(f"The latest search ran {len(table)} trial(s); none finished.")
    scores = done["score"].astype(float)
    best = done.loc[scores.idxmax() if direction == "max" else scores.idxmin()]
    intro = report.paragraph(
        f"The latest search (`kedro run --pipelines tuning`) ran {len(table)} trial(s), each "
        f"scored by {metric} on the validation rows; trial {best['trial']} scored best, "
        f"{best['score']:.4f}. `kedro run --params training.use_tuned=true` trains with its "
        "settings."
    )
    best_table = report.table(["setting", "best trial"], [[name, best[name]] for name in settings])
    shown = [
        (figures.tuning_scores(trials), "Score per trial"),
        (figures.tuning_settings(trials), "Each setting against the score"),
    ]
    images = "".join(report.image(report.figure_png(figure, dpi), alt) for figure, alt in shown)
    columns = ["trial", "status", *settings, "score", "epochs", "seconds"]
    every = report.details("Every trial", report.table(columns, table[columns].values.tolist()))
    return intro + best_table + images + every


# Alt texts of the figures evaluate_model saves; another figure is named by its file.
TEST_FIGURES = {
    "confusion_matrix.png": "Test confusion matrix",
    "roc_curve.png": "Test ROC curves",
    "predicted_against_actual.png": "Predicted against actual",
}


def test_figures_section(evaluation_figures: Mapping[str, Figure | bytes], dpi: int) -> str:
    """The figures of ``evaluate_model``: the confusion matrix and ROC curves, or predicted
    against actual for regression."""
    return "".join(
        report.image(report.figure_png(figure, dpi), TEST_FIGURES.get(name, name))
        for name, figure in evaluation_figures.items()
    )


def importance_section(importance: Mapping[str, Any], dpi: int) -> str:
    """The drop of the test metric per permuted modality: chart and table."""
    intro = report.paragraph(
        f"Drop in test {importance['metric']} (intact {importance['intact']:.4f}) when one "
        f"modality's inputs are shuffled across the {importance['test_rows']} test rows, "
        f"{importance['repeats']} permutations each; about zero means the model ignores it."
    )
    chart = report.image(
        report.figure_png(figures.modality_importance(importance), dpi), "Modality importance"
    )
    rows = [
        [name, values["mean_drop"], values["std_drop"], values["drops"]]
        for name, values in importance["modalities"].items()
    ]
    return intro + chart + report.table(["modality", "mean drop", "spread (sd)", "drops"], rows)


def build_run_report(
    metrics: dict[str, Any],
    training_history: dict[str, list[float]],
    modality_importance: dict[str, Any],
    split_assignments: pd.DataFrame,
    encoded_target: pd.DataFrame,
    evaluation_figures: Mapping[str, Figure | bytes],
    target_encoder: TargetEncoder,
    parameters: dict[str, Any],
    reporting: Mapping[str, Any],
    model_lineage: Mapping[str, Any] | None = None,
    tuning_trials: pd.DataFrame | None = None,
    **preprocessors: Any,
) -> str:
    """Write the run report: configuration, data, preprocessing, training and test results.

    Args:
        metrics: Test metrics, with the baseline's under ``baseline`` when there is one.
        training_history: Per-epoch training and validation metrics.
        modality_importance: From ``measure_modality_importance``.
        split_assignments: Which rows are in which split.
        encoded_target: Every row's encoded target, for the classes per split.
        evaluation_figures: The test figures ``evaluate_model`` drew, by file name: figures
            in memory, or their saved PNG bytes (``FiguresDataset`` loads those).
        target_encoder: The fitted target encoding.
        parameters: All parameters of this run.
        reporting: ``params:reporting``: title, sections, figure resolution, list lengths.
        model_lineage: The model's lineage record: the report shows the sections
            ``reporting`` lists as the model was made with them (its ``parameters``),
            and this run's values where it records none.
        tuning_trials: The latest search's trials, or None when no search has run; shown
            in a section of their own when there are some.
        **preprocessors: ``<modality>.preprocessor`` for each modality.

    Returns:
        One self-contained HTML document.
    """
    dpi, max_items = int(reporting["figure_dpi"]), int(reporting["max_list_items"])
    model_parameters = made_with(parameters, model_lineage)
    test_title = (
        "Confusion matrix and ROC"
        if target_encoder.is_classification
        else "Predicted against actual"
    )
    sections = [
        (
            "configuration",
            "Configuration",
            configuration_section(model_parameters, list(reporting["configuration"]), parameters),
        ),
        (
            "data",
            "Rows per split",
            split_section(split_assignments, encoded_target, target_encoder),
        ),
        ("preprocessing", "Preprocessing", preprocessing_section(preprocessors, max_items)),
        (
            "training",
            "Learning curves",
            learning_section(
                training_history, target_encoder, model_parameters.get("training") or {}, dpi
            ),
        ),
        ("metrics", "Test metrics", metrics_section(metrics)),
        (
            "test-figures",
            test_title,
            test_figures_section(evaluation_figures, dpi),
        ),
        ("importance", "Modality importance", importance_section(modality_importance, dpi)),
    ]
    if tuning_trials is not None and not tuning_trials.empty:
        sections.append(("tuning", "Search of settings", tuning_section(tuning_trials, dpi)))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    document = report.page(
        str(reporting["title"]),
        f"Target {target_encoder.column!r}, {target_encoder.task} task; generated {generated}.",
        sections,
    )
    logger.info("Wrote the run report: %d sections, %.0f kB.", len(sections), len(document) / 1024)
    return document
