"""Feature package: learn."""

from flask import Blueprint, Flask

bp = Blueprint("learn", __name__, url_prefix="/learn")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
