"""The one exception type raised for problems a user can fix."""


class MultimodalKerasError(ValueError):
    """A problem with the user's table or configuration.

    The message is one sentence: what is wrong, where, and what to do about it.
    """


def one_line(text: object) -> str:
    """Text (an error's, a cell's) on one line, to quote inside a one-line message."""
    return " ".join(str(text).split())
