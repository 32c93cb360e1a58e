"""The project's commands: Kedro's ``kedro run``, and ``kedro init-env`` to draft an environment.

Kedro picks this module up for ``kedro run`` and ``python -m multimodal_keras``, and adds
every command of the ``cli`` group to ``kedro``. ``run`` takes exactly Kedro's options. A
``MultimodalKerasError`` says what is wrong, where and what to do; a traceback under it
would only bury that sentence, so each command prints it alone and exits with 1. Any other
exception keeps its traceback: it is a bug. Set ``MULTIMODAL_KERAS_TRACEBACK=1`` to see
the traceback as well.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from kedro.framework.cli.project import run as kedro_run

from multimodal_keras.errors import MultimodalKerasError

TRACEBACK_VARIABLE = "MULTIMODAL_KERAS_TRACEBACK"


class ProjectError(click.ClickException):
    """A user-fixable problem that stopped a command; ``prefix`` says which."""

    prefix = ""

    def format_message(self) -> str:
        return f"{self.prefix}{self.message}"


class RunError(ProjectError):
    """A user-fixable problem that stopped the run."""

    prefix = "The run stopped: "


class DraftError(ProjectError):
    """A user-fixable problem that stopped ``kedro init-env`` before it wrote anything."""

    prefix = "No environment was drafted: "


@contextmanager
def reported_as(error_type: type[ProjectError]) -> Iterator[None]:
    """Turn a project error raised inside into ``error_type``'s one message, no traceback."""
    try:
        yield
    except Exception as error:
        cause = user_error(error)
        if cause is None or os.environ.get(TRACEBACK_VARIABLE):
            raise
        raise error_type(str(cause)) from None


@click.group(name="multimodal-keras")
def cli() -> None:
    """Project commands."""


@cli.command(name="run", params=kedro_run.params, help=kedro_run.help)
@click.pass_context
def run(context: click.Context, **kwargs) -> dict:
    """Kedro's run command, with a project error reported as one clear message."""
    with reported_as(RunError):
        return context.invoke(kedro_run, **kwargs)


@cli.command(name="init-env")
@click.argument("name")
@click.option(
    "--table",
    required=True,
    help="The table: a file's path (relative to the "
    "project folder or absolute), or what --dataset-type reads (a table's name).",
)
@click.option("--target", required=True, help="The column to predict.")
@click.option(
    "--dataset-type",
    default=None,
    help="A kedro-datasets type, as a catalog spells "
    "it (pandas.SQLTableDataset); default: from the file's suffix "
    "(drafting.dataset_types).",
)
@click.option(
    "--load-args", default=None, help="The dataset's load_args, a YAML mapping: '{sep: \";\"}'."
)
@click.option(
    "--dataset-args",
    default=None,
    help="Other arguments of the dataset, a YAML mapping: '{credentials: db_credentials}'.",
)
@click.option(
    "--image-root",
    default=None,
    help="The folder image paths are relative to; default: the table's folder.",
)
@click.option(
    "--sample-rows",
    type=click.IntRange(min=1),
    default=None,
    help="Rows to draft from; default: drafting.sample_rows (conf/base/parameters_drafting.yml).",
)
@click.option(
    "--force", is_flag=True, help="Replace catalog.yml and parameters.yml of an existing conf/NAME."
)
def init_env(
    name: str,
    table: str,
    target: str,
    dataset_type: str | None,
    load_args: str | None,
    dataset_args: str | None,
    image_root: str | None,
    sample_rows: int | None,
    force: bool,
) -> None:
    """Draft conf/NAME/ (catalog.yml, parameters.yml) from a sample of a table.

    Every column is sorted into a modality, with a comment giving the evidence; columns
    the data do not settle are listed at the top of parameters.yml. Check the draft, then
    `kedro run --env NAME`.
    """
    from kedro.utils import find_kedro_project

    from multimodal_keras import init_env as drafting_command

    with reported_as(DraftError):
        project = find_kedro_project(Path.cwd())
        if project is None:
            raise MultimodalKerasError(
                f"{Path.cwd()} is not inside a Kedro project; run kedro init-env from the "
                "project's folder."
            )
        request = drafting_command.Request(
            name=name,
            table=table,
            target=target,
            dataset_type=dataset_type,
            load_args=drafting_command.parse_mapping(load_args, "--load-args"),
            dataset_args=drafting_command.parse_mapping(dataset_args, "--dataset-args"),
            image_root=image_root,
            sample_rows=sample_rows,
            force=force,
        )
        written = drafting_command.create_environment(Path(project), request)
    click.echo(drafting_command.summary(written, Path(project)))


def user_error(error: BaseException) -> MultimodalKerasError | None:
    """The project error behind an exception, also when Kedro wrapped it (a dataset's load)."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, MultimodalKerasError):
            return current
        current = current.__cause__
    return None
