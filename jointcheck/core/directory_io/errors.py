"""What can be wrong with an imported file: the whole file (format, encoding, header) or one cell."""

from __future__ import annotations

from dataclasses import dataclass

from jointcheck.core.directory_io.messages import translate
from jointcheck.core.errors import InvalidInput

__all__ = ["BadRow", "DirectoryFileError", "EncodingError", "HeaderError", "RowError"]


class DirectoryFileError(InvalidInput):
    """The file as a whole cannot be read; nothing in it is imported."""


class EncodingError(DirectoryFileError):
    def __init__(self, message: str, *, offset: int | None = None, line: int | None = None):
        super().__init__(message)
        self.offset = offset
        self.line = line


class HeaderError(DirectoryFileError):
    """Unknown, missing and duplicated columns, all listed at once."""

    def __init__(self, kind: str, *, unknown: list[str], missing: list[str], duplicated: list[str], hints: dict[str, str] | None = None):
        self.kind = kind
        self.unknown = unknown
        self.missing = missing
        self.duplicated = duplicated
        self.hints = hints or {}
        super().__init__("; ".join(self.problems()))

    def problems(self, language: str = "en") -> list[str]:
        out = []
        if self.unknown:
            names = ", ".join(
                f"'{name}'" + (translate(" (did you mean '{hint}'?)", {"hint": self.hints[name]}, language) if name in self.hints else "")
                for name in self.unknown
            )
            out.append(translate("unknown columns for {kind}: {names}", {"kind": self.kind, "names": names}, language))
        if self.missing:
            out.append(
                translate("missing required columns for {kind}: {names}", {"kind": self.kind, "names": ", ".join(self.missing)}, language)
            )
        if self.duplicated:
            out.append(translate("columns given more than once: {names}", {"names": ", ".join(self.duplicated)}, language))
        return out


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell. `column` is the English column key ('code', 'region', ...), or '' for a
    problem of the row as a whole (more cells than the header has)."""

    line: int
    column: str
    value: str
    reason: str  # in English
    template: str = ""  # the reason's msgid, with {fields} (report.translate_reason)
    params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class BadRow:
    """A rejected row as it was in the file (cells in file order), with everything wrong with it."""

    line: int
    cells: tuple[str, ...]
    errors: tuple[RowError, ...]
