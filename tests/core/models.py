"""A test-only entity exercising every core base (its table is created by the core tests)."""

import uuid

from pydantic import Field
from sqlalchemy import Select, String
from sqlalchemy.orm import Mapped, mapped_column

from core.controller import Action, BaseController
from core.db import CommonBase
from core.errors import Forbidden
from core.filtering import FilterSet, contains
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


class WidgetController(BaseController[Widget, WidgetCreate, WidgetUpdate]):
    repository_class = WidgetRepository
    sort_fields = {"name": Widget.name, "size": Widget.size, "created_at": Widget.created_at}


class OwnedWidgetController(WidgetController):
    """Rows are visible to their owner only; big widgets cannot be deleted."""

    def scope(self, stmt: Select[Widget]) -> Select[Widget]:
        assert self.principal is not None
        return stmt.where(Widget.owner_id == self.principal.id)

    async def check_object(self, obj: Widget, action: Action) -> None:
        if action is Action.DELETE and obj.size > 100:
            raise Forbidden("Big widgets stay.")

    async def perform_create(self, data: WidgetCreate) -> Widget:
        assert self.principal is not None
        widget = Widget(**data.model_dump(), owner_id=self.principal.id)
        return await self.repository.add(widget)
