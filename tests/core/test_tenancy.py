"""Tenant scoping (core/tenancy.py): two teams with overlapping members; every route of a
tenant-scoped entity answers 404 to non-members and 403 to members whose role is too low."""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select, update

from configs import get_settings
from core.application import create_application
from core.controller import Action, BaseController, Parent
from core.crud import CrudRouter
from core.db import Database, utcnow
from core.deps import Gates
from core.errors import Forbidden, NotFound, Unauthorized
from core.security import Principal
from core.tenancy import Roles, Tenant
from tests.conftest import client_for
from tests.core.tenancy_models import (
    TEAMS,
    Note,
    NoteController,
    NoteRead,
    SecretController,
    Team,
    TeamMember,
)
from tests.helpers import recorded_statements

PEOPLE = {name: uuid.uuid4() for name in ("alice", "bob", "carol", "dave")}
gates = Gates(token_url="/token", scopes={"regular": "Use it."})
notes = CrudRouter(NoteController, NoteRead, prefix="/teams/{team_id}/notes")
MODELS = (Team, TeamMember, Note)


async def authenticator(_: Database, token: str) -> Principal:
    if token not in PEOPLE:
        raise Unauthorized()
    return Principal(id=PEOPLE[token], scopes=frozenset({"regular"}))


def include(app: FastAPI) -> None:
    app.include_router(notes, prefix="/api", dependencies=gates.AUTHENTICATED)


@pytest.fixture(scope="module", autouse=True)
async def tenancy_tables(database: Any) -> AsyncIterator[None]:
    tables = [Team.metadata.tables[model.__tablename__] for model in MODELS]
    async with database.engine.begin() as connection:
        for table in tables:
            await connection.run_sync(table.create, checkfirst=True)
    yield
    async with database.engine.begin() as connection:
        for table in reversed(tables):
            await connection.run_sync(table.drop, checkfirst=True)


@pytest.fixture
async def app(leg: Any) -> AsyncIterator[FastAPI]:
    application = create_application(
        get_settings(), authenticator=authenticator, include_routes=include
    )
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


ROLES = {
    "red": {"alice": "owner", "carol": "admin", "bob": "member"},
    "blue": {"bob": "admin", "carol": "member"},
}


@pytest.fixture
async def teams(database: Any) -> dict[str, uuid.UUID]:
    """Two teams with overlapping members (dave is in neither), each with a note and a
    deleted note (for restore)."""
    ids: dict[str, uuid.UUID] = {}
    async with database.session() as session:
        for name, members in ROLES.items():
            team = Team(name=name)
            session.add(team)
            await session.flush()
            ids[name] = team.id
            for who, role in members.items():
                session.add(TeamMember(team_id=team.id, user_id=PEOPLE[who], role=role))
            note, gone = (
                Note(team_id=team.id, title=f"{name} note"),
                Note(team_id=team.id, title="x"),
            )
            gone.deleted_at = utcnow()
            session.add_all([note, gone])
            await session.flush()
            ids[f"{name} note"], ids[f"{name} gone"] = note.id, gone.id
        await session.commit()
    return ids


def as_(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}"}


async def call(
    http: httpx.AsyncClient, who: str, route: str, team: uuid.UUID, note: uuid.UUID | None = None
) -> httpx.Response:
    base = f"/api/teams/{team}/notes"
    item = f"{base}/{note}"
    if route == "list":
        return await http.get(base, headers=as_(who))
    if route == "create":
        return await http.post(base, json={"title": "new"}, headers=as_(who))
    if route == "get":
        return await http.get(item, headers=as_(who))
    if route == "update":
        return await http.patch(item, json={"title": "changed"}, headers=as_(who))
    if route == "delete":
        return await http.delete(item, headers=as_(who))
    return await http.post(f"{item}/restore", headers=as_(who))


ROUTES = ("list", "create", "get", "update", "delete", "restore")


def note_for(teams: dict[str, uuid.UUID], team: str, route: str) -> uuid.UUID:
    return teams[f"{team} gone" if route == "restore" else f"{team} note"]


@pytest.mark.parametrize("route", ROUTES)
async def test_non_members_get_404_on_every_route(
    http: httpx.AsyncClient, teams: dict[str, uuid.UUID], route: str
) -> None:
    response = await call(http, "dave", route, teams["red"], note_for(teams, "red", route))
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == (
        "The team does not exist." if route in ("list", "create") else "The note does not exist."
    )
    # bob is a member of both teams, but the red note is not reached through the blue team
    if route not in ("list", "create"):
        response = await call(http, "bob", route, teams["blue"], note_for(teams, "red", route))
        assert response.status_code == 404, response.text


EXPECTED = {
    # members read; admins write; owners delete
    "bob": {"list": 200, "get": 200, "create": 403, "update": 403, "delete": 403, "restore": 403},
    "carol": {"list": 200, "get": 200, "create": 201, "update": 200, "delete": 403, "restore": 200},
    "alice": {"list": 200, "get": 200, "create": 201, "update": 200, "delete": 204, "restore": 200},
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("who", ["bob", "carol", "alice"])
async def test_each_route_needs_its_role(
    http: httpx.AsyncClient, teams: dict[str, uuid.UUID], database: Any, who: str, route: str
) -> None:
    response = await call(http, who, route, teams["red"], note_for(teams, "red", route))
    assert response.status_code == EXPECTED[who][route], response.text
    if response.status_code == 403:
        assert response.json()["detail"].startswith("This needs the ")
        assert response.json()["detail"].endswith(" role in this team.")
    async with database.session() as session:
        rows = {n.id: n for n in (await session.scalars(select(Note))).all()}
    red = rows[teams["red note"]]
    changed = route == "update" and response.status_code == 200
    assert red.title == ("changed" if changed else "red note")


async def test_rows_are_created_in_the_team_of_the_path(
    http: httpx.AsyncClient, teams: dict[str, uuid.UUID]
) -> None:
    response = await call(http, "bob", "create", teams["blue"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["team_id"] == str(teams["blue"])
    assert body["author_id"] == str(PEOPLE["bob"])
    sent_team = await http.post(
        f"/api/teams/{teams['blue']}/notes",
        json={"title": "n", "team_id": str(teams["red"])},
        headers=as_("bob"),
    )
    assert sent_team.status_code == 422  # never from the client


async def test_lists_show_only_the_team_of_the_path(
    http: httpx.AsyncClient, teams: dict[str, uuid.UUID]
) -> None:
    red = (await call(http, "bob", "list", teams["red"])).json()
    blue = (await call(http, "bob", "list", teams["blue"])).json()
    assert [n["title"] for n in red["items"]] == ["red note"]
    assert [n["title"] for n in blue["items"]] == ["blue note"]
    assert (red["total"], blue["total"]) == (1, 1)


async def test_a_hand_written_check_still_applies(
    http: httpx.AsyncClient, teams: dict[str, uuid.UUID]
) -> None:
    pinned = await http.post(
        f"/api/teams/{teams['red']}/notes", json={"title": "pinned"}, headers=as_("alice")
    )
    url = f"/api/teams/{teams['red']}/notes/{pinned.json()['id']}"
    response = await http.delete(url, headers=as_("alice"))
    assert (response.status_code, response.json()["detail"]) == (403, "Pinned notes stay.")


async def test_a_removed_member_loses_access_at_once(
    http: httpx.AsyncClient, teams: dict[str, uuid.UUID], database: Any
) -> None:
    async with database.session() as session:
        rows = await session.scalars(select(TeamMember))
        bobs = next(m for m in rows if m.user_id == PEOPLE["bob"] and m.team_id == teams["red"])
        await session.execute(
            update(TeamMember).where(TeamMember.id == bobs.id).values(deleted_at=utcnow())
        )
        await session.commit()
    assert (await call(http, "bob", "list", teams["red"])).status_code == 404
    assert (await call(http, "bob", "get", teams["red"], teams["red note"])).status_code == 404


# -- a read role above membership ----------------------------------------------------------------


def principal(who: str) -> Principal:
    return Principal(id=PEOPLE[who], scopes=frozenset({"regular"}))


async def test_a_read_role_narrows_flat_lists_and_refuses_nested_ones(
    database: Any, teams: dict[str, uuid.UUID]
) -> None:
    async with database.session() as session:
        carols = SecretController(session, principal("carol"))  # admin of red, member of blue
        flat = await carols.list()
        assert {n.title for n in flat.items} == {"red note"}
        with pytest.raises(Forbidden):
            await carols.list(parent_id=teams["blue"])
        with pytest.raises(Forbidden):
            await carols.get(teams["blue note"])
        with pytest.raises(NotFound):
            await SecretController(session, principal("dave")).get(teams["blue note"])


def test_roles_fall_back_from_the_action_to_write_to_read() -> None:
    roles = Roles(read="member", write="admin", delete="owner")
    assert [roles.required(action) for action in Action] == [
        "member", "member", "admin", "admin", "owner", "admin"
    ]  # fmt: skip
    assert Roles(read="admin").required("update") == "admin"
    assert Roles().required("delete") is None


def test_an_unknown_role_or_a_parent_beside_a_tenant_is_refused_at_import() -> None:
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        Tenant(TEAMS, "team_id", roles=Roles(write="boss"))
    with pytest.raises(TypeError, match="both parent and tenant"):

        class Both(NoteController):
            parent = Parent(NoteController, "team_id")

    with pytest.raises(ValueError, match="need its parent in the path"):
        CrudRouter(NoteController, NoteRead, prefix="/notes")


# -- the list query: one indexed EXISTS ----------------------------------------------------------


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def list_statements(
    app: FastAPI, http: httpx.AsyncClient, team: uuid.UUID
) -> list[tuple[str, Any]]:
    with recorded_statements(app.state.database.engine) as seen:
        response = await call(http, "bob", "list", team)
    assert response.status_code == 200
    return [(sql, params) for sql, params in seen if "FROM test_notes" in sql]


async def test_the_list_adds_one_exists_on_the_membership_index(
    app: FastAPI, http: httpx.AsyncClient, teams: dict[str, uuid.UUID], database: Any, leg: Any
) -> None:
    """The page (and its total, a subquery of the same statement) read the notes with one
    `EXISTS` on the membership table each, no join; on PostgreSQL each probes its index."""
    [(page, _)] = await list_statements(app, http, teams["red"])
    reads = page.count("FROM test_notes")
    assert reads == 2, page  # the page and its count
    assert page.count("FROM test_team_members") == page.upper().count("EXISTS") == reads, page
    assert " JOIN " not in page.upper(), page
    if not leg.is_services:
        return
    await many_teams(database)
    [(statement, parameters)] = await list_statements(app, http, teams["red"])
    async with database.engine.connect() as connection:
        result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        raw = result.scalar_one()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = list(plan_nodes(plan))
    members = [n for n in nodes if n.get("Relation Name") == "test_team_members"]
    assert 1 <= len(members) <= reads, nodes
    assert not any(n["Node Type"] == "Seq Scan" for n in members), nodes
    probes = [n for n in nodes if n.get("Index Name") == "uq_test_team_members_live"]
    assert len(probes) == len(members), nodes


async def many_teams(database: Any) -> None:
    """200 more teams of 25 members and 20 notes each, analysed: enough rows for a plan to
    mean something."""
    async with database.session() as session:
        extra = [Team(name=f"t{i}") for i in range(200)]
        session.add_all(extra)
        await session.flush()
        session.add_all(
            TeamMember(team_id=t.id, user_id=uuid.uuid4(), role="member")
            for t in extra
            for _ in range(25)
        )
        session.add_all(Note(team_id=t.id, title="n") for t in extra for _ in range(20))
        await session.commit()
    async with database.engine.connect() as connection:
        await connection.exec_driver_sql("ANALYZE test_notes")
        await connection.exec_driver_sql("ANALYZE test_team_members")
        await connection.commit()


def test_the_controller_keeps_few_public_names() -> None:
    public = [n for n in dir(BaseController) if not n.startswith("_")]
    assert "tenant" in public and len(public) <= 25
