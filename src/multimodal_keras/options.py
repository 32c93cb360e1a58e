"""The base of every parameter block's schema: strict, so that a misspelt key is an error.

The values live in ``conf/base/parameters*.yml`` (Kedro's place for them, and the one a
user reads); the schemas say what each may be. ``parameters.validate`` checks the merged
parameters of a run against them before any node runs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

AUTO = Literal["auto"]
Fraction = Annotated[float, Field(gt=0, lt=1)]
Dropout = Annotated[float, Field(ge=0, lt=1)]
Positive = Annotated[int, Field(gt=0)]
NonNegative = Annotated[int, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
Units = list[Positive]


class Options(BaseModel):
    """A parameter block: every key known, every value of its type and range."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)
