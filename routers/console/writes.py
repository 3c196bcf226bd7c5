"""The console's writes: each one calls the controller or service the API route for the same
action calls, in a unit of work of its own, so checks, revocation and events happen alike."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.api_keys.controller import ApiKeyAdminController
from app.users.controller import UserController
from app.users.models import AuthSession
from app.users.schemas import ScopesUpdate, UserAdminUpdate
from core.errors import NotFound
from core.platform.jobs.admin import forget_failed_job, get_failed_job, retry_failed_job
from core.security import Principal, Scope

Run = Callable[[AsyncSession, Principal, uuid.UUID, FormData], Awaitable[str]]


@dataclass(frozen=True)
class Write:
    """A button on a row's page that POSTs to /admin/{view}/write/{slug}/{id}.

    `run` does the change and says what it did; `shown(row)` decides whether the button
    applies to the row; `choices` adds checkboxes named `choice`; `superuser` hides it from
    (and refuses it to) admins; `invalidates` names the API's cached namespaces it changes;
    `gone` sends the admin back to the list (the row no longer exists)."""

    slug: str
    label: str
    run: Run
    shown: Callable[[Any], bool] = lambda _row: True
    choices: tuple[str, ...] = ()
    superuser: bool = False
    invalidates: tuple[str, ...] = ()
    gone: bool = False

    def allowed(self, principal: Principal) -> bool:
        """Whether `principal` may use this write."""
        return not self.superuser or principal.has(Scope.SUPERUSER)


async def _set_active(session: AsyncSession, me: Principal, pk: uuid.UUID, active: bool) -> str:
    user = await UserController(session, me).update(pk, UserAdminUpdate(is_active=active))
    return f"{user.email} is {'active' if active else 'deactivated: every token ended'}."


async def deactivate(session: AsyncSession, me: Principal, pk: uuid.UUID, _: FormData) -> str:
    """PATCH /users/{id} with `is_active: false`."""
    return await _set_active(session, me, pk, False)


async def reactivate(session: AsyncSession, me: Principal, pk: uuid.UUID, _: FormData) -> str:
    """PATCH /users/{id} with `is_active: true`."""
    return await _set_active(session, me, pk, True)


async def set_scopes(session: AsyncSession, me: Principal, pk: uuid.UUID, form: FormData) -> str:
    """PATCH /users/{id}/scopes with the ticked scopes."""
    data = ScopesUpdate.model_validate({"scopes": form.getlist("choice")})
    user = await UserController(session, me).set_scopes(pk, data)
    return f"{user.email} now holds: {', '.join(user.scopes)}."


async def end_session(session: AsyncSession, me: Principal, pk: uuid.UUID, _: FormData) -> str:
    """What logging out on that device does: the session's tokens stop working."""
    row = await session.get(AuthSession, pk)
    if row is None:
        raise NotFound("The session does not exist.")
    await UserController(session, me).revoke_session(row.user_id, pk)
    return "The session is ended."


async def revoke_key(session: AsyncSession, me: Principal, pk: uuid.UUID, _: FormData) -> str:
    """DELETE /api-keys/{id} (admin)."""
    await ApiKeyAdminController(session, me).delete(pk)
    return "The API key is revoked."


async def retry_job(session: AsyncSession, _me: Principal, pk: uuid.UUID, _: FormData) -> str:
    """POST /admin/jobs/failed/{id}/retry."""
    task_id = await retry_failed_job(session, await get_failed_job(session, pk))
    return f"The job is sent again as task {task_id}."


async def forget_job(session: AsyncSession, _me: Principal, pk: uuid.UUID, _: FormData) -> str:
    """DELETE /admin/jobs/failed/{id}."""
    await forget_failed_job(session, await get_failed_job(session, pk))
    return "The failed job is deleted."
