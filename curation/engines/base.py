"""The one small protocol every model-driven piece follows, and the record of which engine made a result.

An engine has a name and a version (stored beside everything it produces), says whether it can run here
(`available()`, with the reason when it cannot), and has one call whose shape belongs to its step
(embed images, rate a turn, generate a negative, suggest a mapping). Defaults that need no weights are
engines too and say so in their name; where they have no evidence they leave a value empty.
"""
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class EngineInfo:
    """What is stored beside a result: which engine made it."""

    name: str
    version: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".strip()


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""


@runtime_checkable
class Engine(Protocol):
    name: str
    version: str

    def available(self) -> Availability: ...


def engine_info(engine: Engine) -> EngineInfo:
    return EngineInfo(name=engine.name, version=engine.version)
