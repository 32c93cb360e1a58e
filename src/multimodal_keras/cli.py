"""Project commands: Kedro's own ``run``, reporting a user's mistake as one sentence.

Kedro picks this module up for ``kedro run`` and ``python -m multimodal_keras``. The
command takes exactly Kedro's options; only a ``MultimodalKerasError`` (a problem with
the table or the configuration that the user can fix) is caught, and printed as its
message without a traceback. Any other exception keeps its traceback: it is a bug.
"""

from __future__ import annotations

from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

from multimodal_keras.errors import MultimodalKerasError


@click.group(name="multimodal-keras")
def cli() -> None:
    """Commands of the multimodal-keras project."""


def _run(**options: Any) -> Any:
    try:
        return kedro_run.callback(**options)
    except MultimodalKerasError as error:
        raise click.ClickException(str(error)) from None


run = click.Command(
    name="run",
    callback=_run,
    params=list(kedro_run.params),
    help=kedro_run.help,
    short_help=kedro_run.short_help,
)
cli.add_command(run)
