"""Every model of the app, imported so Alembic sees the whole metadata."""

from app.messenger.models import Message, Thread, ThreadParticipant
from app.users.models import User

__all__ = ["Message", "Thread", "ThreadParticipant", "User"]
