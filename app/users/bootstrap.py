"""The first superuser of the embedded default, from AUTH_FIRST_SUPERUSER_EMAIL/PASSWORD."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import ValidationError

from app.users.schemas import SuperuserCreate
from app.users.service import AuthService
from configs import Settings
from core.db import Database
from core.errors import Conflict
from core.service import unit_of_work

logger = logging.getLogger("plinth.users")


async def ensure_first_superuser(database: Database, settings: Settings) -> bool:
    """Create the configured superuser unless a live user has that email; True if created."""
    auth = settings.auth
    if not auth.first_superuser_email or auth.first_superuser_password is None:
        return False
    try:
        data = SuperuserCreate(
            email=auth.first_superuser_email,
            password=auth.first_superuser_password.get_secret_value(),
        )
    except ValidationError:
        logger.error("AUTH_FIRST_SUPERUSER_EMAIL/PASSWORD are invalid; no superuser created")
        return False
    try:
        async with unit_of_work(database) as session:
            await AuthService(session, None).create_superuser(data)
    except Conflict:
        return False
    logger.info("created the first superuser %s", data.email)
    return True


@asynccontextmanager
async def first_superuser(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan hook: on the embedded default only, make sure the first superuser exists."""
    settings: Settings = app.state.settings
    if settings.is_embedded:
        await ensure_first_superuser(app.state.database, settings)
    yield
