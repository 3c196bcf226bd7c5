"""A test-only entity exercising every core base (its table is created by the core tests)."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field
from sqlalchemy import ForeignKey, Select, String
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import enum_column
from core.controller import Action, BaseController, Owner, Parent
from core.db import CommonBase
from core.errors import Forbidden
from core.files import file_field
from core.filtering import Filter, FilterSet
from core.pagination import CursorPagination, OffsetPagination
from core.repository import BaseRepository
from core.schemas import CreateSchema, ReadSchema, UpdateSchema


class Widget(CommonBase):
    __tablename__ = "test_widgets"

    name: Mapped[str] = mapped_column(String(50), unique=True)
    size: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class WidgetCreate(CreateSchema):
    name: str = Field(min_length=1, max_length=50)
    size: int = 0


class WidgetUpdate(UpdateSchema):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    size: int | None = None


class WidgetRead(ReadSchema):
    name: str
    size: int


class WidgetRepository(BaseRepository[Widget]):
    model = Widget


class WidgetFilters(FilterSet):
    name: str | None = Filter(Widget.name, "contains")
    min_size: int | None = Filter(Widget.size, ">=")


class WidgetController(BaseController[Widget, WidgetCreate, WidgetUpdate, WidgetRepository]):
    filterset = WidgetFilters
    pagination = OffsetPagination(
        sort={"name": Widget.name, "size": Widget.size, "created_at": Widget.created_at}
    )


class OwnedWidgetController(WidgetController):
    """Rows are visible to their owner only; big widgets cannot be deleted."""

    owner = Owner("owner_id")

    async def check_object(self, obj: Widget, action: Action) -> None:
        if action is Action.DELETE and obj.size > 100:
            raise Forbidden("Big widgets stay.")


class Gadget(CommonBase):
    """A child of a widget (a parent/child collection)."""

    __tablename__ = "test_gadgets"

    widget_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("test_widgets.id"))
    label: Mapped[str] = mapped_column(String(50))
    author_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class GadgetCreate(CreateSchema):
    label: str = Field(min_length=1, max_length=50)


class GadgetUpdate(UpdateSchema):
    label: str | None = Field(default=None, min_length=1, max_length=50)


class GadgetRead(ReadSchema):
    widget_id: uuid.UUID
    label: str
    author_id: uuid.UUID | None


class GadgetController(BaseController[Gadget, GadgetCreate, GadgetUpdate]):
    """Gadgets of widgets the caller owns; creating one bumps its widget's size."""

    parent = Parent(OwnedWidgetController, "widget_id", lock_on_create=True)
    owner = Owner("author_id", private=False)
    pagination = CursorPagination()

    async def perform_create(
        self, data: GadgetCreate, *, parent: Widget | None = None, **values: Any
    ) -> Gadget:
        gadget = await super().perform_create(data, parent=parent, **values)
        if parent is not None:
            widgets = self.controller(OwnedWidgetController).repository
            await widgets.update(parent, {"size": parent.size + 1})
        return gadget


class Status(StrEnum):
    """A project's status: an enum column and an enum list filter."""

    PLANNED = "planned"
    ACTIVE = "active"
    ON_HOLD = "on_hold"


class Project(CommonBase):
    """An owned entity with an enum column, a date and a nullable time (the filter operators)."""

    __tablename__ = "test_projects"

    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[Status] = enum_column(Status, default=Status.PLANNED)
    budget: Mapped[int] = mapped_column(default=0)
    due: Mapped[date | None] = mapped_column(default=None)
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class ProjectCreate(CreateSchema):
    name: str = Field(min_length=1, max_length=50)
    status: Status = Status.PLANNED
    budget: int = 0
    due: date | None = None


class ProjectUpdate(UpdateSchema):
    status: Status | None = None


class ProjectRead(ReadSchema):
    name: str
    status: Status
    budget: int
    due: date | None
    archived_at: datetime | None


class ProjectFilters(FilterSet):
    status: list[Status] | None = Filter(Project.status, "in")
    not_status: list[Status] | None = Filter(Project.status, "not_in")
    name: str | None = Filter(Project.name, "contains")
    exact_name: str | None = Filter(Project.name, "==")
    other_name: str | None = Filter(Project.name, "!=")
    budget_over: int | None = Filter(Project.budget, ">")
    budget_under: int | None = Filter(Project.budget, "<")
    due_from: date | None = Filter(Project.due, ">=")
    due_to: date | None = Filter(Project.due, "<=")
    archived: bool | None = Filter(Project.archived_at, "is_not_null")
    undated: bool | None = Filter(Project.due, "is_null")
    big: bool | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        stmt = super().apply(stmt)
        return stmt.where(Project.budget >= 1000) if self.big else stmt


class ProjectRepository(BaseRepository[Project]):
    model = Project


class ProjectController(BaseController[Project, ProjectCreate, ProjectUpdate, ProjectRepository]):
    """Projects visible to their owner only."""

    filterset = ProjectFilters
    owner = Owner("owner_id")
    pagination = OffsetPagination(sort={"name": Project.name})


class Document(CommonBase):
    """An entity with a file field (tests/core/test_files.py)."""

    __tablename__ = "test_documents"

    title: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    attachment_id: Mapped[uuid.UUID | None] = file_field()


class DocumentCreate(CreateSchema):
    title: str = Field(min_length=1, max_length=50)


class DocumentUpdate(UpdateSchema):
    title: str | None = Field(default=None, min_length=1, max_length=50)


class DocumentRead(ReadSchema):
    title: str
    attachment_id: uuid.UUID | None


class DocumentController(BaseController[Document, DocumentCreate, DocumentUpdate]):
    """Documents visible to their owner only."""

    owner = Owner("owner_id")
