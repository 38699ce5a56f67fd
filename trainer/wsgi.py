"""The web process: `gunicorn trainer.wsgi:app`."""

from trainer import create_app
from trainer.seal import check_web_process

app = create_app()
check_web_process(app)  # in production, never a web process that could open sealed answers
