"""Gzip for text responses, and static files cached for a year under content-hashed URLs.

`url_for("static", filename=...)` adds `v=<hash of the file's content>`. A request carrying the
current hash is answered as immutable for a year; editing the file changes its URL, so
browsers never keep a stale copy. Requests without it (or with an old hash) are cached briefly.
"""

import gzip
import hashlib
import os

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

MIN_COMPRESS_SIZE = 1024  # smaller bodies gain too little to be worth the CPU
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")
VERSIONED_CACHE = "public, max-age=31536000, immutable"
UNVERSIONED_CACHE = "public, max-age=300"

_hashes: dict[str, tuple[tuple[int, int], str]] = {}  # path -> ((mtime, size), hash)


def static_version(filename: str) -> str | None:
    """Return a short hash of a static file's content, or None if there is no such file."""
    path = safe_join(current_app.static_folder, filename)
    if path is None:  # outside the static folder
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _hashes.get(path)
    if cached is None or cached[0] != key:
        with open(path, "rb") as file:
            cached = (key, hashlib.sha256(file.read()).hexdigest()[:12])
        _hashes[path] = cached
    return cached[1]


def _version_static_urls(endpoint: str, values: dict) -> None:
    if (
        endpoint == "static"
        and "filename" in values
        and "v" not in values
        and (version := static_version(values["filename"]))
    ):
        values["v"] = version


def _cache_static(response: Response) -> Response:
    if request.endpoint == "static" and response.status_code in (200, 206, 304):
        filename = (request.view_args or {}).get("filename", "")
        current = request.args.get("v") and request.args["v"] == static_version(filename)
        response.headers["Cache-Control"] = VERSIONED_CACHE if current else UNVERSIONED_CACHE
    return response


def _compress(response: Response) -> Response:
    """Gzip a complete text body of 1 KB or more when the client accepts gzip."""
    if (
        response.status_code != 200
        or "Content-Encoding" in response.headers
        or not response.mimetype.startswith(COMPRESSIBLE)
    ):
        return response
    if response.direct_passthrough:  # a static file, still on disk: read it into the body
        file = response.response
        response.direct_passthrough = False
        response.set_data(b"".join(file))
        file.close()
    elif response.is_streamed:  # a generator (a long CSV, say) goes out as it is produced
        return response
    body = response.get_data()
    if len(body) < MIN_COMPRESS_SIZE:
        return response
    response.vary.add("Accept-Encoding")
    if not request.accept_encodings["gzip"]:
        return response
    response.set_data(gzip.compress(body, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:  # the gzip body is a different representation, so it needs its own tag
        response.set_etag(f"{etag}-gzip", weak)
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(_version_static_urls)
    app.after_request(_cache_static)
    app.after_request(_compress)
