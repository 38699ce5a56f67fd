"""trainer: an employees-first staff training and morale platform."""

from pathlib import Path

from flask import Flask

from trainer import config


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, database, then one init call per feature."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, test_config)
    init_logging(app)

    from trainer import content, db, demo, features, forms, http_cache, i18n, mail, scheduler, seal

    i18n.init_app(app)
    forms.init_app(app)
    db.init_app(app)
    content.init_app(app)
    for feature in features.feature_packages():
        feature.init_app(app)
    scheduler.init_app(app)
    seal.init_app(app)
    mail.init_app(app)
    demo.init_app(app)
    http_cache.init_app(app)
    return app


def load_config(app: Flask, test_config: dict | None) -> None:
    """Apply defaults, then instance/config.py, then TRAINER_* variables, then test settings."""
    app.config.from_object(config.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("TRAINER")
    if app.config["PRODUCTION"]:
        app.config.from_object(config.Production)
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("TRAINER")
    if test_config:
        app.config.from_mapping(test_config)
    app.config.pop("SEAL_PRIVATE_KEY", None)  # read from the environment by the scheduler only
    if not app.config["DATABASE_URL"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'trainer.sqlite3'}"
    if not app.config["COURSES_DIR"]:
        app.config["COURSES_DIR"] = str(Path(app.root_path) / "courses")
    if app.config["PRODUCTION"] and app.config["SECRET_KEY"] == config.DEFAULT_SECRET_KEY:
        raise RuntimeError(
            "Refusing to start in production with the default SECRET_KEY: "
            "set TRAINER_SECRET_KEY or SECRET_KEY in instance/config.py."
        )
    if not app.config["BASE_URL"]:
        if app.config["PRODUCTION"]:
            raise RuntimeError(
                "Refusing to start in production without BASE_URL, the address people open "
                "trainer at (emailed links use it): set TRAINER_BASE_URL, "
                "e.g. https://trainer.example.com."
            )
        app.config["BASE_URL"] = config.development_base_url(app.config["HOST"], app.config["PORT"])


def init_logging(app: Flask) -> None:
    import logging

    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run otherwise
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    # Their INFO lines repeat on every run (each job added and run, each Alembic plugin loaded)
    # and tell the person running trainer nothing; their warnings still show.
    for name in ("apscheduler", "alembic.runtime.plugins"):
        logging.getLogger(name).setLevel(logging.WARNING)
