"""Two organizations with overlapping members, made through the API and the database."""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from app.organizations.models import Membership, OrganizationRole
from tests.helpers import API, Actor, actor


@dataclass
class World:
    """acme: alice owner, bob admin, carol member. globex: carol owner, bob member.
    dave belongs to neither."""

    people: dict[str, Actor]
    acme: str
    globex: str
    memberships: dict[tuple[str, str], str]  # (organization, person) -> membership id

    def member(self, organization: str, who: str) -> str:
        return self.memberships[(organization, who)]


async def create_organization(client: httpx.AsyncClient, who: Actor, name: str) -> str:
    response = await client.post(f"{API}/organizations", json={"name": name}, headers=who.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def join(database: Any, organization: str, who: Actor, role: OrganizationRole) -> None:
    async with database.session() as session:
        session.add(
            Membership(organization_id=uuid.UUID(organization), user_id=who.user.id, role=role)
        )
        await session.commit()


async def world(client: httpx.AsyncClient, database: Any) -> World:
    people = {name: await actor(database, name) for name in ("alice", "bob", "carol", "dave")}
    acme = await create_organization(client, people["alice"], "Acme")
    globex = await create_organization(client, people["carol"], "Globex")
    await join(database, acme, people["bob"], OrganizationRole.ADMIN)
    await join(database, acme, people["carol"], OrganizationRole.MEMBER)
    await join(database, globex, people["bob"], OrganizationRole.MEMBER)
    memberships: dict[tuple[str, str], str] = {}
    for name, org in (("acme", acme), ("globex", globex)):
        listed = await client.get(
            f"{API}/organizations/{org}/members", headers=people["bob"].headers
        )
        assert listed.status_code == 200, listed.text
        for row in listed.json()["items"]:
            who = row["user"]["email"].split("@")[0]
            memberships[(name, who)] = row["id"]
    return World(people, acme, globex, memberships)
