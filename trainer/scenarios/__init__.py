"""Feature package: scenarios."""

from flask import Blueprint, Flask

bp = Blueprint("scenarios", __name__, url_prefix="/scenarios")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
