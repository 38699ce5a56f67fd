"""Course and scenario content: safe Markdown rendering and the `flask content` commands.

Content lives as plain text in the COURSES_DIR folder (by default `trainer/courses/`, which
ships in the package). Each kind of content (courses, scenarios, …) registers a check and a sync
function; `flask content check` runs every check and `flask content sync` loads everything into
the database, refusing to load broken content.
"""

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

ALLOWED_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr",
    "ul", "ol", "li", "em", "strong", "code", "pre", "blockquote",
    "table", "thead", "tbody", "tr", "th", "td", "a",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def sanitize_html(html: str) -> Markup:
    """Keep only the allow-listed tags, attributes and URL schemes of an HTML fragment."""
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=URL_SCHEMES, link_rel="noopener noreferrer",
                      clean_content_tags={"script", "style"})
    return Markup(clean)  # noqa: S704 (nh3 has just sanitized it)


@lru_cache(maxsize=512)
def render_markdown(text: str) -> Markup:
    """Render Markdown to sanitized HTML: raw HTML is shown as text, never executed."""
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
    `sync(session, courses_dir)` loads it and returns a one-line summary."""

    name: str
    check: Callable[[Path], list]
    sync: Callable[..., object]


def register_content_kind(app: Flask, name: str, check: Callable[[Path], list],
                          sync: Callable[..., object]) -> None:
    """Add a kind of content to `flask content check` and `flask content sync`."""
    app.extensions.setdefault("trainer.content_kinds", {})[name] = ContentKind(name, check, sync)


def content_kinds(app: Flask) -> list[ContentKind]:
    return list(app.extensions.get("trainer.content_kinds", {}).values())


def check_all(app: Flask, courses_dir: Path) -> list[str]:
    """Run every registered check; return all problems as `file:line: reason` strings."""
    return [str(problem) for kind in content_kinds(app) for problem in kind.check(courses_dir)]


content_cli = AppGroup("content", help="Check course and scenario content, or load it.")
_dir_option = click.option(
    "--dir", "courses_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The content folder (default: the COURSES_DIR setting, trainer/courses).")


def _courses_dir(option: Path | None) -> Path:
    return option or Path(current_app.config["COURSES_DIR"])


def _report_problems(problems: list[str]) -> None:
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found.", err=True)


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


@content_cli.command("check")
@_dir_option
def check_command(courses_dir):
    """Check all content; print each problem as file:line: reason."""
    folder = _checked_folder(courses_dir)
    names = ", ".join(kind.name for kind in content_kinds(current_app))
    click.echo(f"Content OK ({names}) in {folder}.")


@content_cli.command("sync")
@_dir_option
def sync_command(courses_dir):
    """Load all content into the database (only if every check passes)."""
    from trainer.db import db_session

    folder = _checked_folder(courses_dir, on_failure="Nothing was loaded.")
    session = db_session()
    summaries = [(kind.name, kind.sync(session=session, courses_dir=folder))
                 for kind in content_kinds(current_app)]
    session.commit()
    for name, summary in summaries:
        click.echo(f"{name}: {summary}")


def init_app(app: Flask) -> None:
    """Add the `flask content` commands and the `markdown` and `rich_text` template filters
    (safe to call from several features)."""
    if "content" not in app.cli.commands:
        app.cli.add_command(content_cli)
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(render_text, "rich_text")
