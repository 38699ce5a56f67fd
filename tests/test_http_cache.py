"""Gzip for text responses; static files cached for a year under content-hashed URLs."""

import gzip
import re
from urllib.parse import parse_qs, urlsplit

from flask import Response, url_for

from trainer import csvdownload
from trainer.http_cache import VERSIONED_CACHE, static_version

GZIP = {"Accept-Encoding": "gzip, deflate"}


def test_a_page_is_gzipped_for_a_client_that_accepts_it(client):
    plain = client.get("/auth/login")
    packed = client.get("/auth/login", headers=GZIP)
    assert len(plain.get_data()) > 1024 and plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == "gzip"
    assert all("Accept-Encoding" in r.headers["Vary"] for r in (plain, packed))
    assert int(packed.headers["Content-Length"]) == len(packed.get_data())
    page = gzip.decompress(packed.get_data()).decode()
    assert "<form" in page and 'name="email"' in page


def test_small_or_binary_bodies_are_left_alone(client):
    assert client.get("/healthz", headers=GZIP).headers.get("Content-Encoding") is None


def test_a_streamed_download_is_not_compressed(app, client):
    rows = [f"row {n},{'x' * 40}\n" for n in range(200)]

    @app.route("/test-stream.csv")
    def stream():
        return Response(iter(rows), mimetype="text/csv")

    response = client.get("/test-stream.csv", headers=GZIP)
    assert response.headers.get("Content-Encoding") is None
    assert response.get_data(as_text=True) == "".join(rows)


def test_a_csv_download_arrives_whole_when_gzipped(app, client):
    rows = [["unit", "period", "note"], *[[f"T{n}", "2026Q3", "=1+1"] for n in range(100)]]

    @app.route("/test-download.csv")
    def download():
        return csvdownload.download("test.csv", rows)

    plain = client.get("/test-download.csv")
    packed = client.get("/test-download.csv", headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Content-Disposition"] == plain.headers["Content-Disposition"]
    assert gzip.decompress(packed.get_data()) == plain.get_data()


def test_a_gzipped_file_gets_its_own_etag(client):
    with client.application.test_request_context():
        url = url_for("static", filename="css/app.css")
    plain, packed = client.get(url), client.get(url, headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert plain.headers["ETag"] != packed.headers["ETag"]
    assert gzip.decompress(packed.get_data()) == plain.get_data()


def test_static_urls_carry_the_content_hash_and_are_immutable(app, client):
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
        version = static_version("css/app.css")
    assert parse_qs(urlsplit(url).query)["v"] == [version] and re.fullmatch(
        r"[0-9a-f]{12}", version
    )
    assert client.get(url).headers["Cache-Control"] == VERSIONED_CACHE
    page = client.get("/auth/login").get_data(as_text=True)
    assert f"/static/css/app.css?v={version}" in page


def test_static_files_stay_cacheable_for_a_signed_in_person(app, client, org, login_as):
    login_as(org.employee)
    with app.test_request_context():
        url = url_for("static", filename="js/nav.js")
    assert client.get(url).headers["Cache-Control"] == VERSIONED_CACHE
    assert client.get("/").headers["Cache-Control"] == "no-store"  # pages stay private


def test_unversioned_or_outdated_static_urls_are_cached_briefly(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=300"


def test_editing_a_static_file_changes_its_url(app, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "site.css").write_text("body { color: black }")
    with app.test_request_context():
        before = url_for("static", filename="site.css")
        (tmp_path / "site.css").write_text("body { color: navy; }")
        after = url_for("static", filename="site.css")
        missing = url_for("static", filename="nowhere.css")
    assert before != after and "v=" in after
    assert "v=" not in missing
