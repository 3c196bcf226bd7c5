"""A test-only entity exercising every core base (its table is created by the core tests)."""

import uuid
from typing import Any

from pydantic import Field
from sqlalchemy import ForeignKey, Select, String
from sqlalchemy.orm import Mapped, mapped_column

from core.controller import Action, BaseController, Owner, Parent
from core.db import CommonBase
from core.errors import Forbidden
from core.filtering import FilterSet, contains
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
    name: str | None = None
    min_size: int | None = None

    def apply(self, stmt: Select[Widget]) -> Select[Widget]:
        if self.name:
            stmt = stmt.where(contains(Widget.name, self.name))
        if self.min_size is not None:
            stmt = stmt.where(Widget.size >= self.min_size)
        return stmt


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
