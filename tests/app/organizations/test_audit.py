"""The audit log over HTTP: every organization, membership, invitation, API-key, scope and
password event appears exactly once with the right actor (an API key included); an
organization's admins read its log, members get 403, non-members 404; platform admins read all
of it; nothing edits or deletes an entry."""

import uuid
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import update

from app.organizations.invitations import invitation_token
from app.users.models import User
from configs import get_settings
from tests.app.organizations.support import World, create_organization, world
from tests.app.users.support import auth, tokens
from tests.helpers import API, DEFAULT_PASSWORD, actor

REDACTED = "[redacted]"


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def log(client: httpx.AsyncClient, who: dict[str, str], path: str, **query: Any) -> Any:
    return await ok(await client.get(f"{API}{path}", params=query, headers=who))


def events(page: Any) -> Counter[tuple[str, str, str]]:
    return Counter((e["entity_type"], e["action"], e["actor"]) for e in page["items"])


async def verify(database: Any, email: str) -> None:
    async with database.session() as session:
        await session.execute(update(User).where(User.email == email).values(email_verified=True))
        await session.commit()


async def invite(client: httpx.AsyncClient, base: str, email: str, who: dict[str, str]) -> Any:
    body = {"email": email}
    return await ok(await client.post(f"{base}/invitations", json=body, headers=who), 201)


async def test_organization_events_appear_once_each_with_their_actor(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    org = await create_organization(client, alice, "Acme")
    base, mine = f"{API}/organizations/{org}", alice.headers
    await ok(await client.patch(base, json={"name": "Acme 2"}, headers=mine))
    invited = await invite(client, base, "bob@example.com", mine)
    await ok(await client.post(f"{base}/invitations/{invited['id']}/resend", headers=mine), 202)
    await verify(database, "bob@example.com")
    token = invitation_token(get_settings().secret_key, uuid.UUID(invited["id"]), 2)
    accept = {"token": token}
    await ok(await client.post(f"{API}/invitations/accept", json=accept, headers=bob.headers))
    other = await invite(client, base, "erin@example.com", mine)
    await ok(await client.delete(f"{base}/invitations/{other['id']}", headers=mine), 204)
    members = (await log(client, mine, f"/organizations/{org}/members"))["items"]
    bobs = next(m["id"] for m in members if m["user"]["id"] == bob.id)
    await ok(await client.patch(f"{base}/members/{bobs}", json={"role": "admin"}, headers=mine))
    await ok(await client.post(f"{base}/transfer", json={"user_id": bob.id}, headers=mine))
    await ok(await client.post(f"{base}/leave", headers=mine), 204)

    a, b = f"user:{alice.id}", f"user:{bob.id}"
    page = await log(client, bob.headers, f"/organizations/{org}/audit")
    assert events(page) == Counter(
        {
            ("organization", "create", a): 1,
            ("membership", "create", a): 1,  # the owner's membership
            ("organization", "update", a): 1,
            ("invitation", "create", a): 2,
            ("invitation", "resend", a): 1,
            ("invitation", "accept", b): 1,
            ("membership", "create", b): 1,
            ("invitation", "delete", a): 1,
            ("membership", "update", a): 1,
            ("membership", "transfer", a): 2,  # bob up to owner, alice down to admin
            ("membership", "leave", a): 1,
        }
    )
    assert {e["organization_id"] for e in page["items"]} == {org}
    assert {e["request_id"] is not None for e in page["items"]} == {True}
    by_action = {(e["entity_type"], e["action"]): e for e in page["items"]}
    rename = by_action[("organization", "update")]["changes"]
    assert rename == {"name": {"before": "Acme", "after": "Acme 2"}}
    role = by_action[("membership", "update")]["changes"]
    assert role == {"role": {"before": "member", "after": "admin"}}
    created = by_action[("invitation", "create")]["changes"]
    assert created["token_hash"] == REDACTED


async def test_only_admins_read_an_organizations_log(
    client: httpx.AsyncClient, database: Any
) -> None:
    made: World = await world(client, database)  # acme: alice owner, bob admin, carol member
    path = f"{API}/organizations/{made.acme}/audit"
    statuses = {
        who: (await client.get(path, headers=made.people[who].headers)).status_code
        for who in ("alice", "bob", "carol", "dave")
    }
    assert statuses == {"alice": 200, "bob": 200, "carol": 403, "dave": 404}
    acme = await log(client, made.people["bob"].headers, f"/organizations/{made.acme}/audit")
    assert {e["organization_id"] for e in acme["items"]} == {made.acme}  # not globex's
    for method in ("POST", "PATCH", "DELETE", "PUT"):
        response = await client.request(method, path, headers=made.people["alice"].headers)
        assert response.status_code == 405


async def test_filters_and_keyset_pages(client: httpx.AsyncClient, database: Any) -> None:
    alice = await actor(database, "alice")
    org = await create_organization(client, alice, "Acme")
    for n in range(5):
        name = {"name": f"Acme {n}"}
        await ok(await client.patch(f"{API}/organizations/{org}", json=name, headers=alice.headers))
    path, seen, cursor = f"/organizations/{org}/audit", [], None
    while True:
        query = {"action": "update", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await log(client, alice.headers, path, **query)
        seen += [e["changes"]["name"]["after"] for e in page["items"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == [f"Acme {n}" for n in reversed(range(5))]  # newest first, each once
    by_entity = await log(client, alice.headers, path, entity_type="membership")
    assert [e["action"] for e in by_entity["items"]] == ["create"]
    by_actor = await log(client, alice.headers, path, actor=f"user:{alice.id}")
    assert len(by_actor["items"]) == 7
    assert (await log(client, alice.headers, path, since="2999-01-01T00:00:00Z"))["items"] == []
    bad = await client.get(f"{API}{path}", params={"since": "yesterday"}, headers=alice.headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_api_keys_scopes_and_passwords_are_audited_for_platform_admins(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice = await actor(database, "alice")
    root = await actor(database, "root", scopes=("superuser",))
    access = (await tokens(client, "alice@example.com"))["access_token"]
    body = {"name": "ci", "scopes": ["regular"]}
    key = await ok(
        await client.post(f"{API}/users/me/api-keys", json=body, headers=auth(access)), 201
    )
    org = await create_organization(client, alice, "Acme")
    rename = {"name": "Renamed by a key"}
    await ok(
        await client.patch(f"{API}/organizations/{org}", json=rename, headers=auth(key["key"]))
    )
    await ok(await client.delete(f"{API}/users/me/api-keys/{key['id']}", headers=auth(access)), 204)
    scopes = {"scopes": ["regular", "admin"]}
    await ok(
        await client.patch(f"{API}/users/{alice.id}/scopes", json=scopes, headers=root.headers)
    )
    change = {"current_password": DEFAULT_PASSWORD, "password": "another-long-passphrase"}
    await ok(await client.patch(f"{API}/users/me", json=change, headers=auth(access)))

    carol = await actor(database, "carol")
    assert (await client.get(f"{API}/admin/audit", headers=carol.headers)).status_code == 403
    page = await log(client, root.headers, "/admin/audit")
    a, r = f"user:{alice.id}", f"user:{root.id}"
    assert events(page) == Counter(
        {
            ("api_key", "create", a): 1,
            ("organization", "create", a): 1,
            ("membership", "create", a): 1,
            ("organization", "update", f"api_key:{key['id']}"): 1,
            ("api_key", "delete", a): 1,
            ("user", "scopes", r): 1,
            ("user", "password_change", a): 1,
        }
    )
    by_action = {e["action"]: e for e in page["items"]}
    assert by_action["update"]["user_id"] == alice.id  # the person behind the key
    assert by_action["scopes"]["changes"]["scopes"]["after"] == ["admin", "regular"]
    assert by_action["password_change"]["changes"] == {}
    created = {(e["entity_type"], e["action"]): e for e in page["items"]}
    key_created = created[("api_key", "create")]
    assert key_created["changes"]["key_hash"] == REDACTED
    assert key["key"] not in str(page)
