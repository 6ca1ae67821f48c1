"""Database URLs: the driver koe uses when a URL names none, and a clear error when it is missing.

``postgresql://`` (and Heroku-style ``postgres://``) means psycopg 3 (``postgresql+psycopg://``,
the ``postgres`` extra: ``pip install "koe[postgres]"``); SQLAlchemy alone would pick psycopg2,
which koe does not install. A URL that names its driver (``postgresql+psycopg2://``,
``mysql+pymysql://``) is used as given. Used by the run-state store (``state_db``) and by the
SQL input (``input_db_url``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

POSTGRES_DRIVER = "psycopg"
POSTGRES_INSTALL = 'pip install "koe[postgres]"'
_POSTGRES_SCHEMES = ("postgresql", "postgres")


class MissingDriverError(RuntimeError):
    """The Python driver (DBAPI) of a database URL is not installed; the message says how."""


def normalize_db_url(url: str) -> str:
    """``url`` with koe's default driver where it names none: ``postgresql://`` and
    ``postgres://`` become ``postgresql+psycopg://``; everything else is returned unchanged."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in _POSTGRES_SCHEMES:
        return f"postgresql+{POSTGRES_DRIVER}://{rest}"
    return url


def safe_url(url: str) -> str:
    """``url`` with any password hidden, for messages."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split("://", 1)[0] + "://..."


def _missing_driver(url: str, exc: ImportError) -> MissingDriverError:
    scheme = url.partition("://")[0].lower()
    if scheme.startswith("postgres"):
        hint = f'{POSTGRES_INSTALL} (psycopg 3; or name your driver, e.g. "postgresql+psycopg2://")'
    else:
        hint = f"install the Python driver of {scheme!r}"
    return MissingDriverError(
        f"no database driver for {safe_url(url)}: {exc.name or exc} is not installed; {hint}"
    )


def check_driver(url: str) -> None:
    """Raise MissingDriverError when the driver of ``url`` (after normalize_db_url) cannot be
    imported. Connects to nothing: for failing fast before a run starts."""
    import sqlalchemy as sa

    url = normalize_db_url(url)
    try:
        sa.engine.make_url(url).get_dialect().import_dbapi()
    except ImportError as exc:
        raise _missing_driver(url, exc) from exc


def create_db_engine(url: str, **kwargs: Any) -> sa.Engine:
    """``sqlalchemy.create_engine`` on ``normalize_db_url(url)``.

    Raises:
        MissingDriverError: the URL's driver is not installed (instead of SQLAlchemy's bare
            ``ModuleNotFoundError: No module named 'psycopg2'``).
    """
    import sqlalchemy as sa

    url = normalize_db_url(url)
    try:
        return sa.create_engine(url, **kwargs)
    except ImportError as exc:
        raise _missing_driver(url, exc) from exc
