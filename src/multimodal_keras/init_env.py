"""``kedro init-env``: read a sample of a table, draft an environment from it, write it.

The steps around the drafting rules (``drafting.py``) and the files (``draft_yaml.py``):
the project's settings, the table read through kedro-datasets as its catalog entry will
read it, and the two files written under ``conf/<env>/``, never over an existing
environment unless asked. Every problem a user can fix is a ``MultimodalKerasError``.
"""

from __future__ import annotations

import inspect
import re
import shlex
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from kedro.config import MissingConfigException
from kedro.io import DataCatalog
from kedro.io.core import DatasetError, parse_dataset_definition
from pydantic import ValidationError

from multimodal_keras import drafting
from multimodal_keras.draft_yaml import catalog_yaml, parameters_yaml, relative_writer
from multimodal_keras.errors import MultimodalKerasError

CONF = "conf"
BASE = "base"
CATALOG_FILE, PARAMETERS_FILE = "catalog.yml", "parameters.yml"
RAW_TABLE = "raw_table"
# The constructor argument ``--table`` fills, the first a dataset type takes: a file's
# path for file datasets, a table's name or a query for SQL ones.
TABLE_ARGUMENTS = ("filepath", "path", "table_name", "sql")
FILE_ARGUMENTS = ("filepath", "path")
# An environment is a folder under conf/ that `kedro run --env NAME` names.
ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
REASON_LENGTH = 200  # characters of a reader's own message quoted in an error


@dataclass(frozen=True)
class Request:
    """What ``kedro init-env`` was asked to draft."""

    name: str
    table: str
    target: str
    dataset_type: str | None = None
    load_args: Mapping[str, Any] = field(default_factory=dict)
    dataset_args: Mapping[str, Any] = field(default_factory=dict)
    image_root: str | None = None
    sample_rows: int | None = None
    force: bool = False

    def command(self) -> str:
        """The command line, as a user would type it."""
        words = ["kedro", "init-env", self.name, "--table", self.table, "--target", self.target]
        if self.dataset_type:
            words += ["--dataset-type", self.dataset_type]
        for option, mapping in (
            ("--load-args", self.load_args),
            ("--dataset-args", self.dataset_args),
        ):
            if mapping:
                words += [option, _flow(dict(mapping))]
        if self.image_root:
            words += ["--image-root", self.image_root]
        if self.sample_rows:
            words += ["--sample-rows", str(self.sample_rows)]
        return shlex.join(words)


@dataclass(frozen=True)
class Written:
    """What the command wrote, and the draft it wrote."""

    folder: Path
    files: list[Path]
    draft: drafting.Draft
    rows: int  # rows of the table
    kept: list[Path]  # other files already in the folder, left as they were


def create_environment(project: Path, request: Request) -> Written:
    """Draft ``conf/<name>/`` from a sample of the table and write its two files."""
    folder = environment_folder(project, request)
    parameters = project_parameters(project)
    settings = drafting_settings(parameters)
    sample_rows = request.sample_rows or settings.sample_rows
    entry, location = dataset_entry(project, request, settings)
    table = load_table(project, entry, location)
    sample = table_sample(table, sample_rows, int(parameters["seed"]))
    root = image_root(project, request, entry)
    draft = drafting.draft(
        sample,
        request.target,
        settings,
        drafting.ProjectSettings.from_parameters(parameters),
        root,
    )
    written_path = relative_writer(project)
    source = (
        f"all {len(table)} rows of {request.table}"
        if len(sample) == len(table)
        else f"a random sample of {len(sample)} of the {len(table)} rows of {request.table}"
    )
    # Every block with columns: each is written, so that base's demo columns never stay.
    modalities = [
        name
        for name, block in parameters.items()
        if isinstance(block, Mapping) and "columns" in block
    ]
    metadata = base_metadata(project)
    catalog_entry = {**entry, "metadata": metadata} if metadata else entry
    files = {
        CATALOG_FILE: catalog_yaml(catalog_entry, request.command()),
        PARAMETERS_FILE: parameters_yaml(
            draft,
            modalities,
            request.command(),
            source,
            f"kedro run --env {request.name}",
            written_path,
        ),
    }
    folder.mkdir(parents=True, exist_ok=True)
    kept = sorted(path for path in folder.iterdir() if path.name not in files)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Written(folder, [folder / name for name in files], draft, len(table), kept)


def summary(written: Written, project: Path) -> str:
    """What was written and what to do next, for the terminal."""
    draft = written.draft
    files = " and ".join(path.relative_to(project).as_posix() for path in written.files)
    counts = ", ".join(
        f"{role} {len(draft.of_role(role))}"
        for role in (drafting.CATEGORICAL, drafting.NUMERICAL, drafting.TEXT, drafting.IMAGE)
    )
    doubts = len(draft.undecided) + bool(draft.target.undecided)
    lines = [
        f"Wrote {files} from {draft.rows} of the table's {written.rows} rows.",
        f"Task: {draft.target.task} (target {draft.target.name!r}); columns: {counts}; "
        f"id column: {draft.id_column or 'none'}; group column: {draft.group_column or 'none'}.",
        f"To decide: {doubts} (listed at the top of parameters.yml, with the choice made)."
        if doubts
        else "Nothing to decide: every column's role follows from the data.",
    ]
    if written.kept:
        kept = ", ".join(path.name for path in written.kept)
        lines.append(f"Left as they were in {written.folder.name}/: {kept}.")
    lines.append(f"Check the draft, then: kedro run --env {written.folder.name}")
    return "\n".join(lines)


def environment_folder(project: Path, request: Request) -> Path:
    """``conf/<name>``, refused when the name is not a folder name, or the folder exists."""
    name = request.name
    if not ENVIRONMENT_NAME.fullmatch(name) or name == BASE:
        raise MultimodalKerasError(
            f"{name!r} cannot name an environment: use letters, digits, '_', '-' and '.' (not "
            f"first), and not {BASE!r}, whose settings every environment builds on."
        )
    folder = project / CONF / name
    if folder.exists() and not request.force:
        raise MultimodalKerasError(
            f"The environment {CONF}/{name} already exists; choose another name, or add "
            "--force to replace its catalog.yml and parameters.yml."
        )
    return folder


def config_loader(project: Path, env: str | None = None) -> Any:
    """The project's configuration loader, as a run makes it (settings.py)."""
    from multimodal_keras.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # OmegaConf's note on Kedro's resolvers
        return CONFIG_LOADER_CLASS(str(project / CONF), env=env, **CONFIG_LOADER_ARGS)


def project_parameters(project: Path) -> dict[str, Any]:
    """The parameters of conf/base merged with conf/local, as a run reads them."""
    # No Kedro session: none can start without the environment this command writes, and
    # the loader alone reads the parameters as a run would (conf/local overrides included).
    return dict(config_loader(project)["parameters"])


def drafting_settings(parameters: Mapping[str, Any]) -> drafting.Options:
    """The ``drafting`` block, checked as a run checks every block."""
    try:
        return drafting.Options.model_validate(parameters.get("drafting") or {})
    except ValidationError:
        from multimodal_keras.parameters import check

        check(parameters)  # the project's sentence naming each problem
        raise


def base_metadata(project: Path) -> dict[str, Any] | None:
    """The metadata (kedro-viz layer and preview) of the project's own ``raw_table`` entry."""
    entry = config_loader(project)["catalog"].get(RAW_TABLE) or {}
    return entry.get("metadata")


def dataset_entry(
    project: Path, request: Request, settings: drafting.Options
) -> tuple[dict[str, Any], str]:
    """The ``raw_table`` entry, and where the table is as the command can read it."""
    dataset_type = request.dataset_type or settings.dataset_types.get(
        Path(request.table).suffix.lower()
    )
    if not dataset_type:
        known = ", ".join(settings.dataset_types)
        raise MultimodalKerasError(
            f"The table {request.table!r} is not a file of a known kind ({known}); name its "
            "kedro-datasets type with --dataset-type, e.g. pandas.SQLTableDataset."
        )
    try:
        dataset_class, _ = parse_dataset_definition({"type": dataset_type})
    except DatasetError as error:
        raise MultimodalKerasError(
            f"--dataset-type {dataset_type!r} is not a dataset type this installation has "
            f"({_reason(error)}); spell it as in a catalog, e.g. pandas.CSVDataset."
        ) from None
    accepted = inspect.signature(dataset_class).parameters
    argument = next((name for name in TABLE_ARGUMENTS if name in accepted), None)
    if argument is None:
        raise MultimodalKerasError(
            f"{dataset_type} takes none of {', '.join(TABLE_ARGUMENTS)}, so --table cannot "
            "say where the table is; use a dataset type that reads a table."
        )
    location = request.table
    written = request.table
    if argument in FILE_ARGUMENTS and "://" not in request.table:
        path = (project / request.table).resolve()
        if not path.exists():
            raise MultimodalKerasError(
                f"There is no table at {request.table!r} (looked for {path}); give --table "
                "the file's path, relative to the project folder or absolute."
            )
        location, written = str(path), relative_writer(project)(path)
    entry = {"type": dataset_type, argument: written, **dict(request.dataset_args)}
    if request.load_args:
        entry["load_args"] = dict(request.load_args)
    return entry, location


def load_table(project: Path, entry: Mapping[str, Any], location: str) -> pd.DataFrame:
    """The whole table, read through its catalog entry (credentials from conf/ as a run's)."""
    readable = {**entry}
    argument = next(name for name in TABLE_ARGUMENTS if name in entry)
    readable[argument] = location
    try:
        credentials = dict(config_loader(project)["credentials"])
    except MissingConfigException:
        credentials = {}
    try:
        catalog = DataCatalog.from_config({RAW_TABLE: readable}, credentials=credentials)
    except Exception as error:  # a credentials name the configuration lacks
        raise MultimodalKerasError(
            f"The table's catalog entry cannot be made ({_message(error)}); check "
            "--dataset-args and conf/local/credentials.yml."
        ) from None
    try:
        table = catalog.load(RAW_TABLE)
    except Exception as error:  # whatever the reader raises: the table cannot be read
        raise MultimodalKerasError(
            f"The table {entry[argument]!r} could not be read as {entry['type']} "
            f"({_reason(error)}); check the table, --dataset-type and --load-args."
        ) from None
    if not isinstance(table, pd.DataFrame):
        raise MultimodalKerasError(
            f"{entry['type']} read {entry[argument]!r} as a {type(table).__name__}, not a "
            "table; name a dataset type that loads a pandas DataFrame with --dataset-type."
        )
    return table


def table_sample(table: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """At most ``rows`` rows, drawn at random (seeded), kept in the table's order."""
    if len(table) <= rows:
        return table.reset_index(drop=True)
    return table.sample(n=rows, random_state=seed).sort_index().reset_index(drop=True)


def image_root(project: Path, request: Request, entry: Mapping[str, Any]) -> Path:
    """Where image paths are tried: --image-root, else the table's folder, else the project."""
    if request.image_root:
        root = (project / request.image_root).resolve()
        if not root.is_dir():
            raise MultimodalKerasError(
                f"--image-root {request.image_root!r} is not a folder (looked for {root}); "
                "give the folder the table's image paths are relative to."
            )
        return root
    for argument in FILE_ARGUMENTS:
        if argument in entry and "://" not in str(entry[argument]):
            return (project / str(entry[argument])).resolve().parent
    return project.resolve()


def parse_mapping(text: str | None, option: str) -> dict[str, Any]:
    """A YAML mapping given on the command line (``--load-args '{sep: ";"}'``)."""
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise MultimodalKerasError(
            f"{option} {text!r} is not YAML ({_reason(error)}); write a mapping such as "
            "'{sep: \";\"}'."
        ) from None
    if not isinstance(value, dict):
        raise MultimodalKerasError(
            f"{option} {text!r} is not a mapping; write it as '{{key: value, ...}}'."
        )
    return value


def _reason(error: BaseException) -> str:
    """The innermost cause's message (the reader's own words), on one line and short."""
    while error.__cause__ is not None:
        error = error.__cause__
    return _message(error)


def _message(error: BaseException) -> str:
    """An exception's message on one line and short (a KeyError's without its quotes)."""
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    text = " ".join(text.split()) or type(error).__name__
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 3] + "..."


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=float("inf")).strip()
