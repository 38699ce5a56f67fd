"""Parse Twee 3 source and Twine links.

Follows the Twee 3 specification (iftechfoundation/twine-specs) for passages and Twine's
`parse-links.ts` (klembot/twinejs) for links. Nothing here executes story code.
"""

import json
import re
from dataclasses import dataclass, field

from trainer.content_rules import MAX_NESTING, json_too_deep

HEADER_MARK = "::"

# Non-greedy: the first "]]" closes a link. "." does not cross lines, as in JavaScript.
LINK_PATTERN = re.compile(r"\[\[.*?\]\]")
# Twine treats a target starting with a URL scheme as an external link.
EXTERNAL_TARGET = re.compile(r"^\w+:///?\w", re.IGNORECASE | re.ASCII)
ESCAPED_CHAR = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Problem:
    """Something wrong in a source file, with the line it was found on (1-based)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Link:
    """A `[[…]]` link: what the reader sees, the passage it leads to, and the setter text."""

    label: str
    target: str
    setter: str | None = None
    line: int = field(default=1, compare=False)  # line within the parsed text, 1-based


@dataclass
class Passage:
    name: str
    tags: list[str]
    metadata: dict | None
    text: str
    line: int  # line of the header, 1-based


@dataclass
class TweeStory:
    title: str | None
    data: dict | None
    passages: list[Passage]
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    def passage(self, name: str) -> Passage | None:
        """Return the first passage called `name`, if any."""
        return next((p for p in self.passages if p.name == name), None)

    @property
    def ifid(self) -> str | None:
        return (self.data or {}).get("ifid")

    @property
    def start(self) -> str | None:
        """Return the first passage's name: StoryData.start, else `Start` if it exists."""
        if self.data and self.data.get("start"):
            return self.data["start"]
        return "Start" if self.passage("Start") else None


def unescape(text: str) -> str:
    """Decode Twee escapes: any backslash-escaped character stands for itself."""
    return ESCAPED_CHAR.sub(r"\1", text)


def parse_links(text: str) -> list[Link]:
    """Return the internal links in passage text, in order, following Twine's rules.

    Empty targets and external URLs are dropped; identical links (same label, target and
    setter) are merged into the first.
    """
    links = []
    for match in LINK_PATTERN.finditer(text):
        inside = match.group()[2:-2]
        body, has_setter, setter = inside.partition("][")
        label, target = _split_link(body)
        if not target or EXTERNAL_TARGET.match(target):
            continue
        line = text.count("\n", 0, match.start()) + 1
        link = Link(label, target, setter if has_setter else None, line)
        if link not in links:
            links.append(link)
    return links


def _split_link(body: str) -> tuple[str, str]:
    """Return (label, target); an empty target falls through to the next rule."""
    if "->" in body:
        label, _, target = body.rpartition("->")
        if target:
            return label, target
    if "<-" in body:
        target, _, label = body.partition("<-")
        if target:
            return label, target
    if "|" in body:
        label, _, target = body.rpartition("|")
        if target:
            return label, target
    return body, body


def parse_twee(text: str, filename: str = "<twee>") -> TweeStory:
    """Parse Twee 3 source into passages, never failing on malformed input.

    Malformed metadata or StoryData is reported in `warnings` and discarded; passages without
    a name and duplicate names are reported in `errors`.
    """
    warnings: list[Problem] = []
    errors: list[Problem] = []
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")

    passages = []
    header = None
    body: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith(HEADER_MARK):
            if header:
                passages.append(_passage(header, body))
            header = _parse_header(line[len(HEADER_MARK) :], number, filename, warnings)
            body = []
        elif header:
            # `\::` keeps a body line from starting a passage; it reads as `::`.
            body.append(line[1:] if line.startswith("\\" + HEADER_MARK) else line)
        # Text before the first header is ignored.
    if header:
        passages.append(_passage(header, body))

    first_seen: dict[str, int] = {}
    for passage in passages:
        if not passage.name:
            errors.append(Problem(filename, passage.line, "passage header has no name"))
        elif passage.name in first_seen:
            errors.append(
                Problem(
                    filename,
                    passage.line,
                    f"duplicate passage name {passage.name!r} "
                    f"(first at line {first_seen[passage.name]})",
                )
            )
        else:
            first_seen[passage.name] = passage.line

    story = TweeStory(title=None, data=None, passages=passages, warnings=warnings, errors=errors)
    if not passages:
        warnings.append(Problem(filename, 1, "no passages found"))
        return story
    title = story.passage("StoryTitle")
    if title:
        story.title = title.text.strip() or None
    story_data = story.passage("StoryData")
    if story_data:
        story.data = _story_data(story_data, filename, warnings)
    if not story.ifid:
        line = story_data.line if story_data else 1
        warnings.append(Problem(filename, line, 'no IFID: StoryData should hold an "ifid"'))
    return story


def _passage(header: tuple, body: list[str]) -> Passage:
    name, tags, metadata, line = header
    while body and not body[-1].strip():
        body.pop()
    return Passage(name, tags, metadata, "\n".join(body), line)


def _parse_header(rest: str, line: int, filename: str, warnings: list[Problem]) -> tuple:
    """Split a header (after `::`) into name, tags and metadata."""
    end = 0
    while end < len(rest) and rest[end] not in "[]{}":
        end += 2 if rest[end] == "\\" else 1
    name = unescape(rest[:end]).strip()
    rest = rest[end:]

    tags: list[str] = []
    if rest.startswith("["):
        close = _unescaped_index(rest, "]")
        if close is None:
            warnings.append(Problem(filename, line, f"unterminated tag block in {name!r}"))
            close = len(rest)
        tags = unescape(rest[1:close]).split()
        rest = rest[close + 1 :]

    rest = rest.strip()
    metadata = None
    if rest.startswith("{") and json_too_deep(rest):
        warnings.append(
            Problem(
                filename,
                line,
                f"the metadata of {name!r} is nested more "
                f"than {MAX_NESTING} levels deep; discarded",
            )
        )
    elif rest.startswith("{"):
        try:
            metadata = json.loads(rest)
        except json.JSONDecodeError as error:
            warnings.append(
                Problem(
                    filename,
                    line,
                    f"could not decode the metadata of {name!r} ({error.msg}); discarded",
                )
            )
        else:
            if not isinstance(metadata, dict):
                warnings.append(
                    Problem(filename, line, f"metadata of {name!r} is not an object; discarded")
                )
                metadata = None
    elif rest:
        warnings.append(
            Problem(filename, line, f"unexpected text {rest!r} in the header of {name!r}")
        )
    return name, tags, metadata, line


def _unescaped_index(text: str, char: str) -> int | None:
    index = 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == char:
            return index
        index += 1
    return None


def _story_data(passage: Passage, filename: str, warnings: list[Problem]) -> dict | None:
    if json_too_deep(passage.text):
        warnings.append(
            Problem(
                filename,
                passage.line,
                f"StoryData is nested more than {MAX_NESTING} levels deep; discarded",
            )
        )
        return None
    try:
        data = json.loads(passage.text)
    except json.JSONDecodeError as error:
        warnings.append(
            Problem(
                filename,
                passage.line + error.lineno,
                f"could not decode StoryData ({error.msg}); discarded",
            )
        )
        return None
    if not isinstance(data, dict):
        warnings.append(Problem(filename, passage.line, "StoryData is not an object; discarded"))
        return None
    return data
