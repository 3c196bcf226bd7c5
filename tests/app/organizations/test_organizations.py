"""Organizations over HTTP: two organizations with overlapping members; every route answers
404 to non-members and 403 to members whose role is too low; the last owner stays."""

from typing import Any

import httpx
import pytest

from tests.app.organizations.support import World, world
from tests.helpers import API

ORG_ROUTES = {
    # name: (method, path under /organizations/{org}, body)
    "read": ("GET", "", None),
    "rename": ("PATCH", "", {"name": "Renamed"}),
    "delete": ("DELETE", "", None),
    "members": ("GET", "/members", None),
    "member": ("GET", "/members/{carol}", None),
    "change role": ("PATCH", "/members/{carol}", {"role": "admin"}),
    "remove member": ("DELETE", "/members/{carol}", None),
    "invitations": ("GET", "/invitations", None),
    "invite": ("POST", "/invitations", {"email": "new@example.com", "role": "member"}),
    "invitation": ("GET", "/invitations/{invitation}", None),
    "resend": ("POST", "/invitations/{invitation}/resend", None),
    "revoke": ("DELETE", "/invitations/{invitation}", None),
    "transfer": ("POST", "/transfer", {"user_id": "{bob_user}"}),
    "leave": ("POST", "/leave", None),
}
EXPECTED = {  # in acme: carol is a member, bob an admin
    "carol": {
        "read": 200, "rename": 403, "delete": 403, "members": 200, "member": 200,
        "change role": 403, "remove member": 403, "invitations": 403, "invite": 403,
        "invitation": 403, "resend": 403, "revoke": 403, "transfer": 403, "leave": 204,
    },
    "bob": {
        "read": 200, "rename": 200, "delete": 403, "members": 200, "member": 200,
        "change role": 200, "remove member": 204, "invitations": 200, "invite": 201,
        "invitation": 200, "resend": 202, "revoke": 204, "transfer": 403, "leave": 204,
    },
}  # fmt: skip


@pytest.fixture
async def acme(client: httpx.AsyncClient, database: Any) -> World:
    """The world, plus an open invitation into acme."""
    made = await world(client, database)
    response = await client.post(
        f"{API}/organizations/{made.acme}/invitations",
        json={"email": "invited@example.com"},
        headers=made.people["alice"].headers,
    )
    assert response.status_code == 201, response.text
    made.memberships[("acme", "invitation")] = response.json()["id"]
    return made


async def call(
    client: httpx.AsyncClient, world: World, who: str, route: str, organization: str
) -> httpx.Response:
    method, path, body = ORG_ROUTES[route]
    org = getattr(world, organization)
    values = {
        "carol": world.memberships.get((organization, "carol"), ""),
        "invitation": world.memberships[("acme", "invitation")],
        "bob_user": world.people["bob"].id,
    }
    url = f"{API}/organizations/{org}{path.format(**values)}"
    if body is not None:
        body = {k: v.format(**values) if isinstance(v, str) else v for k, v in body.items()}
    headers = world.people[who].headers
    return await client.request(method, url, json=body, headers=headers)


@pytest.mark.parametrize("route", list(ORG_ROUTES))
async def test_non_members_get_404_on_every_route(
    client: httpx.AsyncClient, acme: World, route: str
) -> None:
    response = await call(client, acme, "dave", route, "acme")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("route", list(ORG_ROUTES))
@pytest.mark.parametrize("who", ["carol", "bob"])
async def test_each_route_needs_its_role(
    client: httpx.AsyncClient, acme: World, who: str, route: str
) -> None:
    response = await call(client, acme, who, route, "acme")
    assert response.status_code == EXPECTED[who][route], response.text
    if response.status_code == 403:
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_member_of_both_cannot_reach_one_through_the_other(
    client: httpx.AsyncClient, acme: World
) -> None:
    """bob is in both: acme's membership and invitation are 404 under globex."""
    bob = acme.people["bob"].headers
    carol_in_acme = acme.member("acme", "carol")
    invitation = acme.memberships[("acme", "invitation")]
    base = f"{API}/organizations/{acme.globex}"
    assert (await client.get(f"{base}/members/{carol_in_acme}", headers=bob)).status_code == 404
    carol = acme.people["carol"].headers  # globex's owner
    patch = await client.patch(
        f"{base}/members/{carol_in_acme}", json={"role": "admin"}, headers=carol
    )
    assert patch.status_code == 404
    assert (await client.get(f"{base}/invitations/{invitation}", headers=carol)).status_code == 404


async def test_list_mine_shows_each_organization_with_my_role(
    client: httpx.AsyncClient, acme: World
) -> None:
    async def mine(who: str) -> dict[str, str]:
        response = await client.get(f"{API}/organizations", headers=acme.people[who].headers)
        assert response.status_code == 200
        return {row["name"]: row["role"] for row in response.json()["items"]}

    assert await mine("alice") == {"Acme": "owner"}
    assert await mine("bob") == {"Acme": "admin", "Globex": "member"}
    assert await mine("carol") == {"Acme": "member", "Globex": "owner"}
    assert await mine("dave") == {}


async def test_the_last_owner_can_neither_leave_nor_be_demoted_until_ownership_moves(
    client: httpx.AsyncClient, acme: World
) -> None:
    alice = acme.people["alice"].headers
    base = f"{API}/organizations/{acme.acme}"
    alices = acme.member("acme", "alice")
    for response in (
        await client.post(f"{base}/leave", headers=alice),
        await client.patch(f"{base}/members/{alices}", json={"role": "admin"}, headers=alice),
        await client.delete(f"{base}/members/{alices}", headers=alice),
    ):
        assert response.status_code == 409, response.text
        assert response.json()["detail"].startswith("The last owner cannot leave")
    moved = await client.post(
        f"{base}/transfer", json={"user_id": acme.people["bob"].id}, headers=alice
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["user_id"], moved.json()["role"]) == (acme.people["bob"].id, "owner")
    me = await client.get(f"{base}/members/{alices}", headers=alice)
    assert me.json()["role"] == "admin"
    assert (await client.post(f"{base}/leave", headers=alice)).status_code == 204
    assert (await client.get(base, headers=alice)).status_code == 404


async def test_only_owners_touch_the_owner_role(client: httpx.AsyncClient, acme: World) -> None:
    bob = acme.people["bob"].headers  # an admin
    base = f"{API}/organizations/{acme.acme}/members"
    alices, carols = acme.member("acme", "alice"), acme.member("acme", "carol")
    demote = await client.patch(f"{base}/{alices}", json={"role": "member"}, headers=bob)
    promote = await client.patch(f"{base}/{carols}", json={"role": "owner"}, headers=bob)
    remove = await client.delete(f"{base}/{alices}", headers=bob)
    assert [r.status_code for r in (demote, promote, remove)] == [403, 403, 403]
    owner_invite = await client.post(
        f"{API}/organizations/{acme.acme}/invitations",
        json={"email": "boss@example.com", "role": "owner"},
        headers=bob,
    )
    assert owner_invite.status_code == 403
    alice = acme.people["alice"].headers
    promoted = await client.patch(f"{base}/{carols}", json={"role": "owner"}, headers=alice)
    assert promoted.status_code == 200 and promoted.json()["role"] == "owner"
    # two owners now: one may step down
    stepped = await client.patch(f"{base}/{alices}", json={"role": "admin"}, headers=alice)
    assert stepped.status_code == 200


async def test_a_removed_member_loses_the_organization(
    client: httpx.AsyncClient, acme: World
) -> None:
    carol = acme.people["carol"].headers
    base = f"{API}/organizations/{acme.acme}"
    removed = await client.delete(
        f"{base}/members/{acme.member('acme', 'carol')}", headers=acme.people["bob"].headers
    )
    assert removed.status_code == 204
    assert (await client.get(base, headers=carol)).status_code == 404
    assert (await client.get(f"{base}/members", headers=carol)).status_code == 404
    names = [
        o["name"] for o in (await client.get(f"{API}/organizations", headers=carol)).json()["items"]
    ]
    assert names == ["Globex"]


async def test_deleting_an_organization_ends_it_for_everyone(
    client: httpx.AsyncClient, acme: World
) -> None:
    base = f"{API}/organizations/{acme.acme}"
    assert (await client.delete(base, headers=acme.people["alice"].headers)).status_code == 204
    for who in ("alice", "bob", "carol"):
        headers = acme.people[who].headers
        assert (await client.get(base, headers=headers)).status_code == 404
        assert (await client.get(f"{base}/members", headers=headers)).status_code == 404


async def test_renaming_and_bad_input(client: httpx.AsyncClient, acme: World) -> None:
    base = f"{API}/organizations/{acme.acme}"
    bob = acme.people["bob"].headers
    renamed = await client.patch(base, json={"name": "  Acme Inc  "}, headers=bob)
    assert renamed.json()["name"] == "Acme Inc"
    for body in ({"name": ""}, {"name": "x" * 201}, {"name": None}, {"owner": "me"}):
        response = await client.patch(base, json=body, headers=bob)
        assert response.status_code == 422, (body, response.text)
    bad_role = await client.patch(
        f"{base}/members/{acme.member('acme', 'carol')}", json={"role": "king"}, headers=bob
    )
    assert bad_role.status_code == 422
    stranger = await client.post(f"{base}/transfer", json={"user_id": acme.people["dave"].id},
                                 headers=acme.people["alice"].headers)  # fmt: skip
    assert stranger.status_code == 404
