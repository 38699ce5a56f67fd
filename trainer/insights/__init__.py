"""Feature package: insights."""

from flask import Blueprint, Flask

bp = Blueprint("insights", __name__, url_prefix="/insights")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
