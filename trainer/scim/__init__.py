"""SCIM 2.0 provisioning at /scim/v2: the company directory creates, changes and deactivates
people, and reads org units as groups."""

from flask import Blueprint, Flask

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")


def init_app(app: Flask) -> None:
    from trainer.forms import csrf
    from trainer.scim import views  # noqa: F401

    app.register_blueprint(bp)
    csrf.exempt(bp)  # bearer tokens only: no cookie, so no cross-site request to forge
