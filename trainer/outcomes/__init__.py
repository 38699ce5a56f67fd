"""Feature package: outcomes."""

from flask import Blueprint, Flask

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
