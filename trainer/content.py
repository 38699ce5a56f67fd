"""Course and scenario content: safe Markdown rendering and the `flask content` commands.

Content lives as plain text in the COURSES_DIR folder (by default `trainer/courses/`, which
ships in the package). Each kind of content (courses, scenarios, …) registers a check and a sync
function; `flask content check` runs every check and `flask content sync` loads everything into
the database, refusing to load broken content.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import click
import nh3
from flask import Flask, current_app
from flask.cli import AppGroup
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from mdit_py_plugins.footnote import footnote_plugin

ALLOWED_TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "br",
    "hr",
    "ul",
    "ol",
    "li",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "sup",
    "section",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "aria-label"},
    "ol": {"start"},
    "li": {"id"},
    "section": {"aria-label"},
}
# Footnotes ([^1] in a lesson) keep their classes and their fn1/fnref1 ids, and nothing else.
FOOTNOTE_CLASSES = {
    "sup": {"footnote-ref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "li": {"footnote-item"},
    "a": {"footnote-backref"},
}
FOOTNOTE_ID = re.compile(r"fn(?:ref)?\d+(?::\d+)?")
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").use(footnote_plugin)
)


def _footnote_ref(renderer, tokens, idx, options, env) -> str:
    number = tokens[idx].meta["id"] + 1
    sub = tokens[idx].meta.get("subId", 0)
    ref_id = f"fnref{number}" + (f":{sub}" if sub > 0 else "")
    return (
        f'<sup class="footnote-ref"><a href="#fn{number}" id="{ref_id}" '
        f'aria-label="Source {number}">[{number}]</a></sup>'
    )


def _footnote_block_open(renderer, tokens, idx, options, env) -> str:
    return (
        '<hr class="footnotes-sep">\n<section class="footnotes" aria-label="Sources">\n'
        '<h2>Sources</h2>\n<ol class="footnotes-list">\n'
    )


def _footnote_anchor(renderer, tokens, idx, options, env) -> str:
    number = tokens[idx].meta["id"] + 1
    sub = tokens[idx].meta.get("subId", 0)
    target = f"fnref{number}" + (f":{sub}" if sub > 0 else "")
    return f' <a href="#{target}" class="footnote-backref" aria-label="Back to the text">↩</a>'


for _rule, _render in (
    ("footnote_ref", _footnote_ref),
    ("footnote_block_open", _footnote_block_open),
    ("footnote_anchor", _footnote_anchor),
):
    _markdown.add_render_rule(_rule, _render)


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "id":
        return value if FOOTNOTE_ID.fullmatch(value) else None
    return value


def sanitize_html(html: str) -> Markup:
    """Keep only the allow-listed tags, attributes and URL schemes of an HTML fragment."""
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        allowed_classes=FOOTNOTE_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        clean_content_tags={"script", "style"},
    )
    return Markup(clean)  # noqa: S704 (nh3 has just sanitized it)


@lru_cache(maxsize=512)
def render_markdown(text: str) -> Markup:
    """Render Markdown to sanitized HTML: raw HTML is shown as text, never executed."""
    return markdown_to_html(text)


def markdown_to_html(text: str) -> Markup:
    """Render Markdown as render_markdown does, uncached (for callers with their own cache)."""
    return sanitize_html(_markdown.render(text))


def render_text(text: str, text_format: str = "plain") -> Markup:
    """Render a short text in a GIFT text format (markdown, html, moodle or plain)."""
    if text_format == "markdown":
        return render_markdown(text)
    if text_format in ("html", "moodle"):
        return sanitize_html(text.replace("\n", "<br>"))
    return escape(text).replace("\n", Markup("<br>"))


# ------------------------------------------------------------------- content kinds and CLI


@dataclass(frozen=True)
class ContentKind:
    """One kind of content: `check(courses_dir)` lists problems ("file:line: reason");
    `sync(session, courses_dir)` loads it and returns a one-line summary; `lint(courses_dir)`
    lists warnings, authoring advice that `content check --strict` turns into errors."""

    name: str
    check: Callable[[Path], list]
    sync: Callable[..., object]
    lint: Callable[[Path], list] | None = None


def register_content_kind(
    app: Flask,
    name: str,
    check: Callable[[Path], list],
    sync: Callable[..., object],
    lint: Callable[[Path], list] | None = None,
) -> None:
    """Add a kind of content to `flask content check` and `flask content sync`."""
    app.extensions.setdefault("trainer.content_kinds", {})[name] = ContentKind(
        name, check, sync, lint
    )


def content_kinds(app: Flask) -> list[ContentKind]:
    return list(app.extensions.get("trainer.content_kinds", {}).values())


def check_all(app: Flask, courses_dir: Path) -> list[str]:
    """Run every registered check; return all problems as `file:line: reason` strings."""
    return [str(problem) for kind in content_kinds(app) for problem in kind.check(courses_dir)]


def lint_all(app: Flask, courses_dir: Path) -> list[str]:
    """Run every registered lint; return all warnings as `file:line: warning: …` strings."""
    return [
        _as_warning(str(warning))
        for kind in content_kinds(app)
        if kind.lint
        for warning in kind.lint(courses_dir)
    ]


def _as_warning(text: str) -> str:
    where, sep, message = text.partition(": ")
    return f"{where}: warning: {message}" if sep else f"warning: {text}"


content_cli = AppGroup("content", help="Check course and scenario content, or load it.")
_dir_option = click.option(
    "--dir",
    "courses_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The content folder (default: the COURSES_DIR setting, trainer/courses).",
)


def _courses_dir(option: Path | None) -> Path:
    return option or Path(current_app.config["COURSES_DIR"])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _report_problems(problems: list[str]) -> None:
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"{_plural(len(problems), 'problem')} found.", err=True)


def _checked_folder(courses_dir, on_failure: str | None = None):
    """Return the content folder, or print every problem and exit with status 1."""
    folder = _courses_dir(courses_dir)
    if not folder.is_dir():
        raise click.UsageError(f"{folder} is not a folder.")
    problems = check_all(current_app, folder)
    if problems:
        _report_problems(problems)
        if on_failure:
            click.echo(on_failure, err=True)
        raise click.exceptions.Exit(1)
    return folder


LINT_HELP = """Check all content; print each problem as file:line: reason.

Also print warnings about the tells of weak training (file:line: warning: …).
With --strict, warnings are errors (exit status 1); CI runs it on the shipped content.

\b
Warnings:
- a scenario won by always taking the first choice, or always one kind
- a quiz whose right answer is the longest option in over 40% of its
  multiple-choice questions
- a quiz whose true/false answers are all the same (two or more)
- an option more than twice as long as every other in its question
- a matching question without feedback
- a lesson line quoting a figure with no source on that line
- the scenario loader's advice, such as Twee macros that are dropped

\b
A figure is a percentage, an amount of money, a proportion (1 in 4), a
multiple (3 times more) or a count of 100 or more people, firms or studies.
A source is an https:// address, an author and year, a named law, or a
footnote [^1] that names one. Numbered steps, times, dates, years, durations
and scores on a scale are not figures; money is fine on a line that says it
is an example. Details: trainer/courses/README.md."""


@content_cli.command("check", help=LINT_HELP)
@_dir_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit status 1).")
def check_command(courses_dir, strict):
    folder = _courses_dir(courses_dir)
    if not folder.is_dir():
        raise click.UsageError(f"{folder} is not a folder.")
    problems = check_all(current_app, folder)
    warnings = lint_all(current_app, folder)
    for line in problems + warnings:
        click.echo(line, err=True)
    names = ", ".join(kind.name for kind in content_kinds(current_app))
    if problems:
        extra = f" and {_plural(len(warnings), 'warning')}" if warnings else ""
        click.echo(f"{_plural(len(problems), 'problem')}{extra} found.", err=True)
        raise click.exceptions.Exit(1)
    if warnings and strict:
        click.echo(
            f"{_plural(len(warnings), 'warning')} found; --strict treats warnings as "
            "errors. Fix each line above.",
            err=True,
        )
        raise click.exceptions.Exit(1)
    if warnings:
        click.echo(
            f"Content OK ({names}) in {folder}, with {_plural(len(warnings), 'warning')}"
            " (errors with --strict)."
        )
    else:
        click.echo(f"Content OK ({names}) in {folder}.")


@content_cli.command("sync")
@_dir_option
def sync_command(courses_dir):
    """Load all content into the database (only if every check passes)."""
    from trainer.db import db_session

    folder = _checked_folder(courses_dir, on_failure="Nothing was loaded.")
    session = db_session()
    summaries = [
        (kind.name, kind.sync(session=session, courses_dir=folder))
        for kind in content_kinds(current_app)
    ]
    session.commit()
    for name, summary in summaries:
        click.echo(f"{name}: {summary}")


def init_app(app: Flask) -> None:
    """Add the `flask content` commands and the `markdown` and `rich_text` template filters."""
    app.cli.add_command(content_cli)
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(render_text, "rich_text")
