"""Test-only tenant-scoped entities: teams, their members, and notes that belong to a team."""

import uuid
from typing import Any

from pydantic import Field
from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.controller import Action, BaseController, Owner
from core.db import CommonBase
from core.errors import Forbidden
from core.schemas import CreateSchema, ReadSchema, UpdateSchema
from core.tenancy import Memberships, Roles, Tenant


class Team(CommonBase):
    __tablename__ = "test_teams"

    name: Mapped[str] = mapped_column(String(50))


class TeamMember(CommonBase):
    __tablename__ = "test_team_members"
    __table_args__ = (
        Index(
            "uq_test_team_members_live",
            "team_id",
            "user_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("test_teams.id"))
    user_id: Mapped[uuid.UUID] = mapped_column()
    role: Mapped[str] = mapped_column(String(10))


class Note(CommonBase):
    __tablename__ = "test_notes"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("test_teams.id"), index=True)
    title: Mapped[str] = mapped_column(String(50))
    author_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class NoteCreate(CreateSchema):
    title: str = Field(min_length=1, max_length=50)


class NoteUpdate(UpdateSchema):
    title: str | None = Field(default=None, min_length=1, max_length=50)


class NoteRead(ReadSchema):
    team_id: uuid.UUID
    title: str
    author_id: uuid.UUID | None


TEAMS = Memberships(TeamMember, ranks=("member", "admin", "owner"), tenant="team_id", noun="team")


class NoteController(BaseController[Note, NoteCreate, NoteUpdate]):
    """Members read, admins write, owners delete; a pinned note stays (a hand-written check)."""

    tenant = Tenant(TEAMS, "team_id", roles=Roles(read="member", write="admin", delete="owner"))
    owner = Owner("author_id", private=False)

    async def check_object(self, obj: Note, action: Action) -> None:
        if action is Action.DELETE and obj.title == "pinned":
            raise Forbidden("Pinned notes stay.")


class SecretController(NoteController):
    """The same notes, readable by admins only."""

    tenant = Tenant(TEAMS, "team_id", roles=Roles(read="admin"))

    async def check_object(self, obj: Any, action: Action) -> None:
        return None
