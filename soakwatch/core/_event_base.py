"""The base of the typed event records (see :mod:`soakwatch.core.event_types`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

__all__ = ["ENVELOPE", "EVENT_TYPES", "Event", "Level", "UnknownEvent"]

Level = Literal["info", "warn", "error"]
#: fields every record has, as named on disk
ENVELOPE = frozenset({"seq", "t", "ts", "kind", "level", "msg"})


def _json_name(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("json", f.name))


@dataclass(frozen=True, kw_only=True)
class Event:
    """One event. ``kind`` is the class's ``KIND``; subclasses add the fields of their kind."""

    KIND: ClassVar[str] = ""
    #: the record's own fields (not envelope, not extra), computed once per class
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = ()

    seq: int = 0
    t: float = 0.0
    ts: str = ""
    level: Level = "info"
    message: str = ""
    #: fields this record does not name, written back as they came
    extra: dict[str, Any] = field(default_factory=dict)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.KIND:
            EVENT_TYPES[cls.KIND] = cls

    @property
    def kind(self) -> str:
        return self.KIND

    @classmethod
    def own_fields(cls) -> tuple[tuple[str, str], ...]:
        """(Python name, JSON name) of the kind's fields, in order."""
        if "_FIELDS" not in cls.__dict__:
            base = {f.name for f in dataclasses.fields(Event)}
            cls._FIELDS = tuple((f.name, _json_name(f)) for f in dataclasses.fields(cls) if f.name not in base)
        return cls._FIELDS

    @property
    def data(self) -> dict[str, Any]:
        """The kind's fields and the extra ones by their JSON names (what ``emit`` took as ``**data``)."""
        return {j: getattr(self, n) for n, j in self.own_fields()} | self.extra


#: record class of every known kind (filled as the classes below are defined)
EVENT_TYPES: dict[str, type[Event]] = {}


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(Event):
    """A kind this version does not know: everything but the envelope is in ``extra``."""

    unknown_kind: str = ""

    @property
    def kind(self) -> str:
        return self.unknown_kind

    @classmethod
    def own_fields(cls) -> tuple[tuple[str, str], ...]:
        return ()

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.extra)
