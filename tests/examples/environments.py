"""The example environments under conf/, what they must reach, and how their data arrive."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Environment:
    """One example environment: its committed raw files and the bar its run must clear."""

    name: str
    script: str
    committed: tuple[str, ...] = field(default_factory=tuple)
    min_accuracy: float | None = None
    # For the text environment: how far above always predicting the majority class.
    min_margin_over_majority: float | None = None


ENVIRONMENTS = {
    "penguins": Environment(
        "penguins",
        "scripts/make_penguins_table.py",
        committed=("penguins.csv", "penguins.LICENSE.md"),
        min_accuracy=0.97,
    ),
    "digits": Environment("digits", "scripts/make_digits_images.py", min_accuracy=0.95),
    "tweets": Environment(
        "tweets",
        "scripts/make_tweets_table.py",
        committed=("vader_tweets.csv", "vader_tweets.LICENSE.md"),
        min_margin_over_majority=0.1,
    ),
}
MAX_SECONDS = 300
