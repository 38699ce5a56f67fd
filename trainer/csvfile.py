"""Read uploaded CSV text the way people actually save it (BOM, commas or semicolons), and write
tables as CSV text with every cell guarded against spreadsheet formulas.

Pure: no Flask and no database. Downloads are sent by `trainer.csvdownload`.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from trainer.util import shown_name
from trainer.util import translate as _

MAX_CELL = 10_000  # characters in one cell; longer ones are reported by line and column

# The csv module stops at a cell over 128 KiB with a bare error. Read cells of any length (the
# upload size limit bounds them) so that an over-long cell is reported like any other problem.
csv.field_size_limit(2**31 - 1)


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line in the file; 1 is the header
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.column:
            where = _("line %(line)s, column %(column)s", line=self.line, column=self.column)
        else:
            where = _("line %(line)s", line=self.line)
        return f"{where}: {self.message}"


class CsvProblem(Exception):
    """The file as a whole cannot be read (encoding, header)."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


def decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvProblem(
            [
                RowError(
                    1, None, _("The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again.")
                )
            ]
        ) from exc


def delimiter_of(text: str) -> str:
    """Return ';' when the header line holds more semicolons than commas, else ','."""
    first = text.splitlines()[0] if text else ""
    return ";" if first.count(";") > first.count(",") else ","


def _cell_problem(value: str) -> str | None:
    if len(value) > MAX_CELL:
        return _(
            "This cell holds %(count)s characters; the most is %(most)s.",
            count=format(len(value), ","),
            most=format(MAX_CELL, ","),
        )
    if "\x00" in value:
        return _("This cell contains a NUL character (\\0), which cannot be stored.")
    return None


def read_rows(
    data: bytes | str, required: list[str], optional: list[str] = (), one_of: tuple[str, ...] = ()
):
    """Return (line number, row dict or None, RowError or None) triples, checking the header
    names exactly (and that at least one of the optional columns `one_of` is there); a row with
    a problem has no dict."""
    text = decode(data)
    if not text.strip():
        raise CsvProblem([RowError(1, None, _("The file is empty."))])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text))
    try:
        header = [shown_name(h.strip().lower()) for h in next(reader)]
        errors = [
            RowError(1, name, _("This column is missing."))
            for name in required
            if name not in header
        ]
        errors += [
            RowError(
                1,
                name or _("(blank)"),
                _(
                    "Unknown column. Expected: %(columns)s.",
                    columns=", ".join([*required, *optional]),
                ),
            )
            for name in header
            if name not in required and name not in optional
        ]
        if one_of and not set(one_of) & set(header):
            errors.append(
                RowError(
                    1,
                    "/".join(one_of),
                    "Add at least one of these columns: " + ", ".join(one_of) + ".",
                )
            )
        errors += [
            RowError(1, name, _("This column appears twice."))
            for i, name in enumerate(header)
            if name in header[:i]
        ]
        if errors:
            raise CsvProblem(errors)
        rows = []
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                rows.append(
                    (
                        line,
                        None,
                        RowError(
                            line,
                            None,
                            _(
                                "Expected %(expected)s fields, found %(found)s.",
                                expected=len(header),
                                found=len(values),
                            ),
                        ),
                    )
                )
                continue
            problem = next(
                (
                    RowError(line, name, message)
                    for name, value in zip(header, values, strict=True)
                    if (message := _cell_problem(value))
                ),
                None,
            )
            row = None if problem else {k: v.strip() for k, v in zip(header, values, strict=True)}
            rows.append((line, row, problem))
    except csv.Error as exc:  # what the csv module cannot read at all
        raise CsvProblem(
            [
                RowError(
                    reader.line_num or 1,
                    None,
                    _("This line cannot be read as CSV (%(problem)s).", problem=exc),
                )
            ]
        ) from None
    return rows


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def guard_cell(value):
    """Prefix a text cell that a spreadsheet would run as a formula with a single quote.

    Numbers, and text that is just a number such as "-3.5", are left as they are.
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_START)
        and not PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def write_guarded(rows: Iterable[Iterable]) -> str:
    """Return `rows` (header first) as CSV text, every cell passed through `guard_cell`."""
    out = io.StringIO()
    csv.writer(out).writerows([guard_cell(value) for value in row] for row in rows)
    return out.getvalue()
