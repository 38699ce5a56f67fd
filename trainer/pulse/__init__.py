"""Feature package: pulse."""

from flask import Blueprint, Flask

bp = Blueprint("pulse", __name__, url_prefix="/pulse")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
