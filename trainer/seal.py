"""Sealed pool: pooled survey answers are encrypted to the scheduler's public key.

The web process holds only the public key and writes each pooled answer as a libsodium sealed
box (PyNaCl). Only the scheduler process holds the private key; it opens the boxes while it
flushes a shuffled batch of at least 10 (shared/reference/anonymity.md §2). So the database's
write-ahead log, a statement log, a backup or a dump hold nothing but ciphertext for answers that
were still waiting, and after a flush they place an answer only within its batch.

Keys are base64 text files. The private key file holds one key per line, newest first: after a
rotation the previous key is kept so that answers sealed by web workers that still hold the old
public key can be opened.
"""

import base64
import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

PRIVATE_KEY_ENV = "TRAINER_SEAL_PRIVATE_KEY"


class SealError(RuntimeError):
    """A key is missing or cannot open a box; the message says what to do."""


def _key_path(app: Flask, setting: str, default_name: str) -> Path:
    return Path(app.config.get(setting) or Path(app.instance_path) / default_name)


def public_key_path(app: Flask) -> Path:
    return _key_path(app, "SEAL_PUBLIC_KEY_FILE", "seal-public.key")


def private_key_path(app: Flask) -> Path:
    return _key_path(app, "SEAL_PRIVATE_KEY_FILE", "seal-private.key")


def _b64(key) -> str:
    return base64.b64encode(bytes(key)).decode("ascii")


def read_public_key(app: Flask) -> PublicKey:
    text = app.config.get("SEAL_PUBLIC_KEY")
    if not text:
        path = public_key_path(app)
        if not path.is_file():
            raise SealError(
                f"No public key for sealing answers at {path}: run "
                "`flask --app trainer seal generate` (see the README)."
            )
        text = path.read_text()
    return PublicKey(base64.b64decode(text.strip()))


def seal(data: bytes) -> bytes:
    """Encrypt `data` so that only the scheduler's private key can open it."""
    app = current_app._get_current_object()
    box = app.extensions.get("trainer.seal.box")
    if box is None:
        box = app.extensions["trainer.seal.box"] = SealedBox(read_public_key(app))
    return box.encrypt(data)


def read_private_keys(app: Flask) -> list[PrivateKey]:
    """Return the scheduler's private keys, newest first (the environment wins over the file)."""
    text = os.environ.get(PRIVATE_KEY_ENV)
    if not text:
        path = private_key_path(app)
        if not path.is_file():
            raise SealError(
                f"The scheduler needs the private key that opens sealed answers, "
                f"at {path} or in {PRIVATE_KEY_ENV}: run "
                "`flask --app trainer seal generate` where the scheduler runs."
            )
        text = path.read_text()
    return [PrivateKey(base64.b64decode(line)) for line in text.split() if line]


class Opener:
    """Opens sealed boxes with any of the scheduler's keys (the scheduler process only)."""

    def __init__(self, keys: list[PrivateKey]):
        self.boxes = [SealedBox(key) for key in keys]

    def open(self, sealed: bytes) -> bytes:
        for box in self.boxes:
            try:
                return box.decrypt(sealed)
            except CryptoError:
                continue
        raise SealError(
            "No private key opens this sealed answer: was the key pair replaced "
            "without `flask --app trainer seal rotate`?"
        )


def opener(app: Flask | None = None) -> Opener:
    """Return the scheduler's opener, reading the private key once per process."""
    app = app or current_app._get_current_object()
    found = app.extensions.get("trainer.seal.opener")
    if found is None:
        found = app.extensions["trainer.seal.opener"] = Opener(read_private_keys(app))
    return found


def private_key_readable(app: Flask) -> bool:
    return bool(os.environ.get(PRIVATE_KEY_ENV)) or os.access(private_key_path(app), os.R_OK)


def check_web_process(app: Flask) -> None:
    """Refuse to serve in production if this web process could read the private key."""
    if app.config["PRODUCTION"] and private_key_readable(app):
        raise RuntimeError(
            "Refusing to start the web process: it can read the private key that opens sealed "
            f"survey answers ({private_key_path(app)} or {PRIVATE_KEY_ENV}). Only the "
            "scheduler may hold it: run the web process as a user that cannot read it."
        )
    read_public_key(app)  # fail at start, not at the first survey answer


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, mode)


def write_key_pair(
    app: Flask, key: PrivateKey | None = None, keep: list[PrivateKey] = ()
) -> PrivateKey:
    """Write a key pair (a new one by default); older private keys in `keep` stay usable."""
    key = key or PrivateKey.generate()
    _write(private_key_path(app), "".join(f"{_b64(k)}\n" for k in [key, *keep]), 0o600)
    _write(public_key_path(app), _b64(key.public_key) + "\n", 0o644)
    for name in ("trainer.seal.box", "trainer.seal.opener"):
        app.extensions.pop(name, None)
    return key


@click.group("seal")
def seal_cli():
    """Manage the key pair that seals pooled survey answers."""


@seal_cli.command("generate")
@click.option("--if-missing", is_flag=True, help="Do nothing when a key pair exists.")
@with_appcontext
def generate_command(if_missing):
    """Write a new key pair (public key for the web, private key for the scheduler)."""
    app = current_app._get_current_object()
    if private_key_path(app).exists() or public_key_path(app).exists():
        if if_missing:
            return
        raise click.ClickException(
            "A key pair exists already: use `seal rotate` to replace "
            "it, so that answers sealed to the old key can be opened."
        )
    write_key_pair(app)
    click.echo(
        f"Wrote {public_key_path(app)} (web and scheduler) and "
        f"{private_key_path(app)} (scheduler only; keep it from the web process)."
    )


@seal_cli.command("rotate")
@with_appcontext
def rotate_command():
    """Replace the key pair, keeping the previous private key for answers still sealed to it."""
    from sqlmodel import Session

    from trainer import audit

    app = current_app._get_current_object()
    if os.environ.get(PRIVATE_KEY_ENV):
        raise click.ClickException(
            f"The private key comes from {PRIVATE_KEY_ENV}: rotate by "
            "writing key files instead (see the README)."
        )
    old = read_private_keys(app)
    new = PrivateKey.generate()
    with Session(app.extensions["trainer.engine"]) as session:
        # Reseal first, write the keys, then commit: a failure on the way leaves every
        # waiting answer openable by a key in the file.
        resealed = sum(
            reseal(Opener(old), SealedBox(new.public_key), session=session)
            for reseal in app.extensions.get("trainer.seal.resealers", [])
        )
        audit.record("command line", "keys.rotate", None, {"resealed": resealed}, session=session)
        write_key_pair(app, new, keep=old[:1])
        session.commit()
    click.echo(
        f"New key pair written; {resealed} waiting answers resealed to the new key. "
        "Restart the web workers so they seal to the new public key; the previous "
        "private key is kept until the next rotation."
    )


def add_resealer(app: Flask, reseal) -> None:
    """Have `seal rotate` call `reseal(opener, box, session=...)` to seal a feature's waiting rows
    again to the new key; it returns how many it resealed."""
    app.extensions.setdefault("trainer.seal.resealers", []).append(reseal)


def init_app(app: Flask) -> None:
    app.cli.add_command(seal_cli)
