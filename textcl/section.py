"""The base of every pipeline-file section: unknown keys refused, assignments validated."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, ValidationInfo

__all__ = ["Section", "at_most"]


class Section(BaseModel):
    """A ``[table]`` of a pipeline file; its fields and their defaults are the settings.

    The defaults written here are the defaults: ``pipelines/default.toml`` lists them
    (a test fails when it differs) and the built-in configuration uses them.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def at_most(bound: str) -> Callable[[float, ValidationInfo], float]:
    """A field validator: the value must not exceed the (earlier) field ``bound``."""

    def check(value: float, info: ValidationInfo) -> float:
        limit = info.data.get(bound)
        if limit is not None and value > limit:
            raise ValueError(
                f"must not exceed {bound} ({limit}); lower {info.field_name} or raise {bound}"
            )
        return value

    return check
