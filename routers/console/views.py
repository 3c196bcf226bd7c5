"""The console's pages over the models: read-only lists and details (sqladmin's), plus the
`writes` each row offers (routers/console/writes.py). Secret columns (password, key and token
hashes) are never listed: every view names the columns it shows."""

import uuid
from typing import Any, ClassVar

from sqladmin import ModelView
from sqlalchemy import Select, false
from starlette.requests import Request

from app.api_keys.models import ApiKey
from app.organizations.models import Membership, Organization
from app.users.models import AuthSession, User
from core.platform.jobs import FailedJob
from core.security import Principal, Scope
from routers.console import writes
from routers.console.writes import Write


def console_principal(request: Request) -> Principal:
    """The signed-in admin (set by `ConsoleAuth.authenticate` before any view runs)."""
    principal: Principal = request.state.console_principal
    return principal


def is_admin(request: Request) -> bool:
    """Whether the request is an admin's (false on pages before sign-in, e.g. a 404)."""
    principal = getattr(request.state, "console_principal", None)
    return isinstance(principal, Principal) and principal.has(Scope.ADMIN)


class ConsoleView(ModelView):
    """Read-only through sqladmin; every change is one of `writes`. Lists of a user's rows take
    `?user=<id>` (the links on a user's page)."""

    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    page_size = 25
    writes: ClassVar[tuple[Write, ...]] = ()
    list_filters: ClassVar[dict[str, Any]] = {}
    """Query parameters the list takes, each an id compared to its column (`?user=<id>`)."""
    related_lists: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """Links on a row's page: (view identity, label, the parameter that view filters on)."""

    def is_accessible(self, request: Request) -> bool:
        return is_admin(request)

    def is_visible(self, request: Request) -> bool:
        return self.is_accessible(request)

    def console_writes(self, request: Request, row: Any) -> list[Write]:
        """The writes this admin may use on `row`."""
        me = console_principal(request)
        return [w for w in self.writes if w.allowed(me) and w.shown(row)]

    def write_named(self, slug: str) -> Write | None:
        """The write called `slug`, if this view has one."""
        return next((w for w in self.writes if w.slug == slug), None)

    def _filtered(self, request: Request, stmt: Select[Any]) -> Select[Any]:
        for name, column in self.list_filters.items():
            value = request.query_params.get(name)
            if not value:
                continue
            try:
                stmt = stmt.where(column == uuid.UUID(value))
            except ValueError:
                stmt = stmt.where(false())
        return stmt

    def list_query(self, request: Request) -> Select[Any]:
        return self._filtered(request, super().list_query(request))

    def count_query(self, request: Request) -> Select[Any]:
        return self._filtered(request, super().count_query(request))


class UserView(ConsoleView, model=User):
    name, name_plural, icon = "User", "Users", "fa-solid fa-user"
    column_list = [User.email, User.full_name, User.scopes, User.is_active, User.created_at]
    column_details_list = [
        User.id,
        User.email,
        User.full_name,
        User.scopes,
        User.is_active,
        User.email_verified,
        User.created_at,
        User.updated_at,
        User.deleted_at,
    ]
    column_searchable_list = [User.email, User.full_name]
    column_sortable_list = [User.email, User.created_at]
    column_default_sort = [(User.created_at, True)]
    related_lists = (
        ("auth-session", "Sessions", "user"),
        ("api-key", "API keys", "user"),
        ("membership", "Organizations", "user"),
    )
    writes = (
        Write(
            "deactivate",
            "Deactivate",
            writes.deactivate,
            lambda u: u.is_active,
            invalidates=("users",),
        ),
        Write(
            "reactivate",
            "Reactivate",
            writes.reactivate,
            lambda u: not u.is_active,
            invalidates=("users",),
        ),
        Write(
            "scopes",
            "Set scopes",
            writes.set_scopes,
            choices=tuple(scope.value for scope in Scope),
            superuser=True,
            invalidates=("users",),
        ),
    )


class SessionView(ConsoleView, model=AuthSession):
    name, name_plural, icon = "Session", "Sessions", "fa-solid fa-right-to-bracket"
    column_list = [
        AuthSession.user_id,
        AuthSession.created_at,
        AuthSession.expires_at,
        AuthSession.revoked_at,
    ]
    column_details_list = [AuthSession.id, *column_list]
    column_default_sort = [(AuthSession.created_at, True)]
    list_filters = {"user": AuthSession.user_id}
    writes = (Write("end", "End session", writes.end_session, lambda s: s.revoked_at is None),)


class ApiKeyView(ConsoleView, model=ApiKey):
    name, name_plural, icon = "API key", "API keys", "fa-solid fa-key"
    column_list = [
        ApiKey.name,
        ApiKey.prefix,
        ApiKey.user_id,
        ApiKey.scopes,
        ApiKey.created_at,
        ApiKey.revoked_at,
    ]
    column_details_list = [ApiKey.id, *column_list, ApiKey.expires_at, ApiKey.last_used_at]
    column_default_sort = [(ApiKey.created_at, True)]
    list_filters = {"user": ApiKey.user_id}
    writes = (Write("revoke", "Revoke", writes.revoke_key, lambda k: k.revoked_at is None),)


class OrganizationView(ConsoleView, model=Organization):
    name, name_plural, icon = "Organization", "Organizations", "fa-solid fa-building"
    column_list = [Organization.name, Organization.created_at]
    column_details_list = [Organization.id, Organization.name, Organization.created_at]
    column_searchable_list = [Organization.name]
    column_default_sort = [(Organization.created_at, True)]
    related_lists = (("membership", "Members", "organization"),)


class MembershipView(ConsoleView, model=Membership):
    name, name_plural, icon = "Membership", "Memberships", "fa-solid fa-people-group"
    column_list = [
        Membership.organization_id,
        Membership.user_id,
        Membership.role,
        Membership.created_at,
    ]
    column_details_list = [Membership.id, *column_list]
    column_default_sort = [(Membership.created_at, True)]
    list_filters = {"user": Membership.user_id, "organization": Membership.organization_id}


class FailedJobView(ConsoleView, model=FailedJob):
    name, name_plural, icon = "Failed job", "Failed jobs", "fa-solid fa-triangle-exclamation"
    column_list = [FailedJob.job, FailedJob.error, FailedJob.attempts, FailedJob.created_at]
    column_details_list = [
        FailedJob.id,
        FailedJob.job,
        FailedJob.task_id,
        FailedJob.arguments,
        FailedJob.error,
        FailedJob.attempts,
        FailedJob.worker,
        FailedJob.created_at,
    ]
    column_searchable_list = [FailedJob.job]
    column_default_sort = [(FailedJob.created_at, True)]
    writes = (
        Write("retry", "Retry", writes.retry_job, gone=True),
        Write("delete", "Delete", writes.forget_job, gone=True),
    )


MODEL_VIEWS: tuple[type[ConsoleView], ...] = (
    UserView,
    SessionView,
    ApiKeyView,
    OrganizationView,
    MembershipView,
    FailedJobView,
)
