"""Limits and character rules shared by every content parser (courses and scenarios).

Pure: no Flask, no database. Each parser checks a file against these rules before parsing it,
so that an oversized, deeply nested or oddly broken file is reported as `file:line: reason`
instead of crashing or stalling the parser. courses/README.md documents the limits.
"""

import re

import yaml

MAX_FILE_BYTES = 256 * 1024  # any one lesson, quiz or scenario file
MAX_NESTING = 20  # levels of YAML lists/mappings or of JSON arrays/objects
MAX_ANSWERS = 100  # answers (or matching pairs) in one GIFT question

# Only \n, \r\n and \r end a line. Other characters that some tools treat as line breaks
# (vertical tab, form feed, U+0085, U+2028, U+2029) and every other control character
# except tab are refused, so all parsers count lines the same way.
LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_NAMES = {
    "\x0b": "vertical tab",
    "\x0c": "form feed",
    "\x85": "next line",
    "\u2028": "line separator",
    "\u2029": "paragraph separator",
    "\x00": "NUL",
}


def size_problem(size: int) -> str | None:
    """Return a reason if a file of `size` bytes is too big to check, else None."""
    if size > MAX_FILE_BYTES:
        return (
            f"the file is larger than the limit of {MAX_FILE_BYTES // 1024} KB; "
            "split it into smaller files"
        )
    return None


def character_problems(text: str, limit: int = 20) -> list[tuple[int, str]]:
    """Return (line, reason) for each line holding a control or odd line-break character."""
    found = []
    for number, line in enumerate(LINE_BREAK.split(text), start=1):
        match = _FORBIDDEN.search(line)
        if match is None:
            continue
        if len(found) == limit:
            found.append((number, "more lines with invisible characters follow"))
            break
        char = match.group()
        name = _NAMES.get(char, "control character")
        found.append(
            (
                number,
                f"invisible {name} (U+{ord(char):04X}) is not allowed; "
                "delete it or use a plain line break",
            )
        )
    return found


def yaml_nesting_problem(text: str) -> tuple[int, str] | None:
    """Return (line, reason) if YAML lists/mappings nest deeper than MAX_NESTING, else None.

    Reads the event stream, which needs no recursion; syntax errors are left to the parser.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    return (
                        event.start_mark.line + 1,
                        f"lists and mappings are nested more than {MAX_NESTING} levels deep",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def json_too_deep(text: str) -> bool:
    """Return True if JSON arrays/objects nest deeper than MAX_NESTING (strings skipped)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif char in "]}":
            depth -= 1
    return False


PROBLEM_TYPE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_PROBLEM_TYPES = 20


def problem_types_problem(value) -> str | None:
    """Say what is wrong with a `problem_types:` declaration (a list of problem type codes,
    as HR names them in the fixes log), or None when it is fine."""
    if not isinstance(value, list) or not value:
        return "problem_types must be a list of one or more problem type codes, e.g. [late-car]"
    if len(value) > MAX_PROBLEM_TYPES:
        return f"problem_types lists more than {MAX_PROBLEM_TYPES} codes"
    for code in value:
        if not isinstance(code, str) or not PROBLEM_TYPE.match(code):
            return (
                f"problem type {code!r} must be a code of lowercase letters, digits and "
                "single hyphens, e.g. late-car"
            )
    if len(set(value)) != len(value):
        return "problem_types lists a code twice"
    return None
