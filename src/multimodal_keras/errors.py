"""The one exception type raised for problems a user can fix."""


class MultimodalKerasError(ValueError):
    """A problem with the user's table or configuration.

    The message is one sentence: what is wrong, where, and what to do about it.
    """
