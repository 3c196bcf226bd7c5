"""Optional domains: packages under app/ that a project can be made without.

The template asks whether to keep the messenger example (docs/template.md). Nothing outside such
a package imports it: it plugs in through its `wiring.py` (models, jobs, lifespans, a paragraph
of the API description) and its routes module `routers/<name>.py`, both found here by name, so a
project without the package and that module works unchanged.

Your own domains are registered by hand (app/models.py and routers/__init__.py; the scaffold
does it). Give one a `wiring.py` only if it should be removable whole, like the example.
"""

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.application import Lifespan
    from core.platform.jobs import JobRegistry

APP_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Wiring:
    """What an optional domain adds to the app: `WIRING = Wiring(...)` in app/<name>/wiring.py,
    which also imports the domain's models so Alembic and the app see them."""

    jobs: "JobRegistry | None" = None
    lifespans: "tuple[Lifespan, ...]" = ()
    description: str = ""
    """A paragraph added to the OpenAPI description (main.py)."""


def optional_domains() -> list[str]:
    """The names of the optional domains this project has (app/<name>/wiring.py exists)."""
    return sorted(path.parent.name for path in APP_DIR.glob("*/wiring.py"))


def wirings() -> list[Wiring]:
    """The `WIRING` of every optional domain, imported (which maps its models)."""
    found = []
    for name in optional_domains():
        wiring = importlib.import_module(f"app.{name}.wiring").WIRING
        if not isinstance(wiring, Wiring):
            raise TypeError(f"app/{name}/wiring.py: WIRING must be an app.domains.Wiring")
        found.append(wiring)
    return found
