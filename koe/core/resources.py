"""Files koe ships as package data (templates, default lists and routing, models, the sample).

Found with :mod:`importlib.resources`, so they resolve the same from a checkout (editable
install) and from an installed wheel. koe reads them as real files, so a package installed
inside a zip file is refused with a clear error.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(package: str, *parts: str) -> Path:
    """The filesystem path of ``parts`` inside ``package`` (e.g. ``"koe.lookup_lists"``)."""
    traversable = resources.files(package).joinpath(*parts)
    path = Path(str(traversable))
    if not path.exists():
        raise FileNotFoundError(f"koe package data not found: {package}/{'/'.join(parts)}")
    return path
