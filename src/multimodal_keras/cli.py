"""The project's ``kedro run``: Kedro's own command, with user-fixable errors shown as one message.

Kedro picks this module up for ``kedro run`` and ``python -m multimodal_keras``. The
command takes exactly Kedro's options. A ``MultimodalKerasError`` says what is wrong, where
and what to do; a traceback under it would only bury that sentence, so it is printed alone
and the run exits with 1. Any other exception keeps its traceback: it is a bug.
Set ``MULTIMODAL_KERAS_TRACEBACK=1`` to see the traceback as well.
"""

from __future__ import annotations

import os

import click
from kedro.framework.cli.project import run as kedro_run

from multimodal_keras.errors import MultimodalKerasError

TRACEBACK_VARIABLE = "MULTIMODAL_KERAS_TRACEBACK"


class RunError(click.ClickException):
    """A user-fixable problem that stopped the run."""

    def format_message(self) -> str:
        return f"The run stopped: {self.message}"


@click.group(name="multimodal-keras")
def cli() -> None:
    """Project commands."""


@cli.command(name="run", params=kedro_run.params, help=kedro_run.help)
@click.pass_context
def run(context: click.Context, **kwargs) -> dict:
    """Kedro's run command, with a project error reported as one clear message."""
    try:
        return context.invoke(kedro_run, **kwargs)
    except Exception as error:
        cause = user_error(error)
        if cause is None or os.environ.get(TRACEBACK_VARIABLE):
            raise
        raise RunError(str(cause)) from None


def user_error(error: BaseException) -> MultimodalKerasError | None:
    """The project error behind an exception, also when Kedro wrapped it (a dataset's load)."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, MultimodalKerasError):
            return current
        current = current.__cause__
    return None
