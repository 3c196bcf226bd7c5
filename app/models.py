"""Every model of the app, imported so Alembic sees the whole metadata."""

from app.users.models import User

__all__ = ["User"]
