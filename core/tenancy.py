"""Tenant scoping: entities that belong to an organization (a team, a workspace) and that only
its members see, with the role each action needs declared beside them.

    MEMBERS = Memberships(Membership, ranks=("member", "admin", "owner"))  # lowest rank first

    class DocumentController(BaseController[Document, DocumentCreate, DocumentUpdate]):
        tenant = Tenant(MEMBERS, "organization_id", roles=Roles(read="member", write="admin"))

    CrudRouter(DocumentController, DocumentRead,
               prefix="/organizations/{organization_id}/documents")

A tenant-scoped controller's rows are visible only to members of their tenant: the row query
adds one `EXISTS` over the membership table's (tenant, user) index, so a non-member gets 404
for rows, lists and creates alike, exactly as for rows that do not exist. A member whose role
is below what the action needs gets 403. Rows are created in the tenant of the path
(`create(data, parent_id=tenant_id)`: the client never sends it). A hand-written
`check_object` still runs after these checks.

The membership table is the app's (core imports nothing from app/): `Memberships` only names
its columns and its roles' order.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound

READS = frozenset({"list", "read"})
"""The actions (`core.controller.Action` values) that `Roles.read` governs; the others write."""


@dataclass(frozen=True)
class Roles:
    """The lowest role each action needs (None: any member). `read` covers list and read;
    `write` covers create, update, delete and restore unless one of those names its own.
    A write with no role of its own and no `write` needs what `read` needs."""

    read: str | None = None
    write: str | None = None
    create: str | None = None
    update: str | None = None
    delete: str | None = None
    restore: str | None = None

    def required(self, action: str) -> str | None:
        """The lowest role `action` needs, or None when any member may."""
        if action in READS:
            return self.read
        own: str | None = getattr(self, action, None)
        return own or self.write or self.read

    def named(self) -> set[str]:
        """Every role named here (to check against the memberships' ranks)."""
        values = (self.read, self.write, self.create, self.update, self.delete, self.restore)
        return {role for role in values if role is not None}


class Memberships:
    """Who belongs to which tenant, with which role: the app's membership model, the names of
    its tenant, user and role columns, and its roles from lowest to highest (`ranks`). A
    model with soft delete counts live rows only. `noun` names a tenant in answers ("The
    organization does not exist.")."""

    def __init__(
        self,
        model: type[Any],
        *,
        ranks: Sequence[str],
        tenant: str = "organization_id",
        user: str = "user_id",
        role: str = "role",
        noun: str = "organization",
    ) -> None:
        table = model.__table__
        self.model = model
        self.noun = noun
        self.ranks = tuple(str(rank) for rank in ranks)
        self.tenant_column = table.c[tenant]
        self.user_column = table.c[user]
        self.role_column = table.c[role]
        self._live = table.c.deleted_at.is_(None) if "deleted_at" in table.c else None

    def at_least(self, role: str | None) -> tuple[str, ...]:
        """The roles that rank at `role` or above (every role for None)."""
        if role is None:
            return self.ranks
        if role not in self.ranks:
            raise ValueError(f"unknown role {role!r}; the roles are {list(self.ranks)}")
        return self.ranks[self.ranks.index(role) :]

    def _of(self, tenant_id: Any, user_id: uuid.UUID) -> list[ColumnElement[bool]]:
        where = [self.tenant_column == tenant_id, self.user_column == user_id]
        return where if self._live is None else [*where, self._live]

    def includes(
        self, tenant_id: Any, user_id: uuid.UUID, *, role: str | None = None
    ) -> ColumnElement[bool]:
        """`EXISTS` a live membership of `user_id` in `tenant_id` (a value or a column of the
        outer query) with at least `role`: one probe of the (tenant, user) index."""
        where = self._of(tenant_id, user_id)
        if role is not None and role != self.ranks[0]:
            where.append(self.role_column.in_(self.at_least(role)))
        return exists().where(*where)

    def role_of(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> Select[Any]:
        """The statement reading `user_id`'s role in `tenant_id` (no row: not a member)."""
        return select(self.role_column).where(*self._of(tenant_id, user_id))

    async def role(
        self, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID
    ) -> str | None:
        """`user_id`'s role in `tenant_id`, or None for a non-member."""
        found = (await session.execute(self.role_of(tenant_id, user_id).limit(1))).scalar()
        return None if found is None else str(found)

    def outranks(self, role: str, required: str | None) -> bool:
        """Whether `role` is `required` or above it."""
        return role in self.at_least(required)


@dataclass(frozen=True)
class Tenant:
    """Makes a controller's rows belong to a tenant (see the module): `field` is the model's
    column holding the tenant id, `roles` what each action needs."""

    memberships: Memberships
    field: str = "organization_id"
    roles: Roles = Roles()

    def __post_init__(self) -> None:
        for role in self.roles.named():
            self.memberships.at_least(role)  # an unknown role fails at import, not per request

    def visible(self, column: Any, user_id: uuid.UUID, action: str) -> ColumnElement[bool]:
        """The condition of rows the caller may see: a member of the row's tenant; lists
        (which cannot answer 403 row by row) also leave out tenants where the caller's role is
        too low to read."""
        role = self.roles.required(action) if action == "list" else None
        return self.memberships.includes(column, user_id, role=role)

    def checks_role(self, action: str) -> bool:
        """Whether `action` needs more than membership (a role lookup)."""
        required = self.roles.required(action)
        return required is not None and required != self.memberships.ranks[0]

    async def check(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
        action: str,
    ) -> None:
        """404 unless `user_id` is a member of `tenant_id`; 403 when their role is below what
        `action` needs."""
        role = await self.memberships.role(session, tenant_id, user_id)
        noun = self.memberships.noun
        if role is None:
            raise NotFound(f"The {noun} does not exist.")
        required = self.roles.required(action)
        if not self.memberships.outranks(role, required):
            raise Forbidden(f"This needs the {required} role in this {noun}.")
