"""/users/me and user administration through HTTP."""

from typing import Any

import httpx
import pytest

from tests.app.users.support import API, auth, login, me, refresh, tokens
from tests.helpers import DEFAULT_PASSWORD, bearer, create_user

NEW_PASSWORD = "a brand new password"

# -- /users/me ----------------------------------------------------------------------------------


async def test_me_changes_the_name(client: httpx.AsyncClient, database: Any) -> None:
    user = await create_user(database, full_name="Alice")
    response = await client.patch(
        f"{API}/users/me", json={"full_name": "Alice Liddell"}, headers=bearer(user)
    )
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Alice Liddell"
    assert response.json()["tokens"] is None
    assert (await client.get(f"{API}/users/me", headers=bearer(user))).json()[
        "full_name"
    ] == "Alice Liddell"


@pytest.mark.parametrize("field", [{"scopes": ["admin"]}, {"is_active": True}, {"email": "x@y.z"}])
async def test_me_cannot_set_protected_fields(
    client: httpx.AsyncClient, database: Any, field: dict[str, Any]
) -> None:
    user = await create_user(database)
    response = await client.patch(f"{API}/users/me", json=field, headers=bearer(user))
    assert response.status_code == 422
    assert (await client.get(f"{API}/users/me", headers=bearer(user))).json()["scopes"] == [
        "regular"
    ]


async def test_password_change_needs_the_current_password(
    client: httpx.AsyncClient, database: Any
) -> None:
    user = await create_user(database)
    missing = await client.patch(
        f"{API}/users/me", json={"password": NEW_PASSWORD}, headers=bearer(user)
    )
    assert missing.status_code == 422
    wrong = await client.patch(
        f"{API}/users/me",
        json={"password": NEW_PASSWORD, "current_password": "not it at all"},
        headers=bearer(user),
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["body", "current_password"]
    assert (await login(client, password=DEFAULT_PASSWORD)).status_code == 200


async def test_password_change_revokes_other_sessions_and_returns_a_fresh_pair(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    laptop, phone = await tokens(client), await tokens(client)
    response = await client.patch(
        f"{API}/users/me",
        json={"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD},
        headers=auth(laptop["access_token"]),
    )
    assert response.status_code == 200, response.text
    fresh = response.json()["tokens"]
    assert "hashed_password" not in response.text
    for old in (laptop, phone):
        assert (await me(client, old["access_token"])).status_code == 401
        assert (await refresh(client, old["refresh_token"])).status_code == 401
    assert (await me(client, fresh["access_token"])).status_code == 200
    assert (await refresh(client, fresh["refresh_token"])).status_code == 200
    assert (await login(client, password=DEFAULT_PASSWORD)).status_code == 401
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200


async def test_new_password_follows_the_policy(client: httpx.AsyncClient, database: Any) -> None:
    user = await create_user(database)
    response = await client.patch(
        f"{API}/users/me",
        json={"password": "x" * 129, "current_password": DEFAULT_PASSWORD},
        headers=bearer(user),
    )
    assert response.status_code == 422


async def test_delete_me_soft_deletes_and_frees_the_email(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    pair = await tokens(client)
    assert (
        await client.delete(f"{API}/users/me", headers=auth(pair["access_token"]))
    ).status_code == 204
    assert (await me(client, pair["access_token"])).status_code == 401
    assert (await refresh(client, pair["refresh_token"])).status_code == 401
    again = await client.post(
        f"{API}/auth/register", json={"email": "alice@example.com", "password": "long enough"}
    )
    assert again.status_code == 201


# -- admin --------------------------------------------------------------------------------------

ADMIN_ROUTES = [
    ("GET", "/users"),
    ("GET", "/users/{id}"),
    ("PATCH", "/users/{id}"),
    ("DELETE", "/users/{id}"),
    ("PATCH", "/users/{id}/scopes"),
    ("POST", "/users/{id}/restore"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_refuse_regular_users(
    client: httpx.AsyncClient, database: Any, method: str, path: str
) -> None:
    user = await create_user(database)
    url = API + path.format(id=user.id)
    body = {"scopes": ["superuser"]} if path.endswith("scopes") else {"is_active": False}
    response = await client.request(
        method, url, headers=bearer(user), json=body if method == "PATCH" else None
    )
    assert response.status_code == 403
    anonymous = await client.request(method, url, json=body if method == "PATCH" else None)
    assert anonymous.status_code == 401


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES[-2:])
async def test_scope_changes_and_restores_refuse_admins(
    client: httpx.AsyncClient, database: Any, method: str, path: str
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    target = await create_user(database, "bob@example.com")
    body = {"scopes": ["admin"]} if method == "PATCH" else None
    response = await client.request(
        method, API + path.format(id=target.id), headers=bearer(admin), json=body
    )
    assert response.status_code == 403


async def test_admin_lists_filters_and_sorts_users(
    client: httpx.AsyncClient, database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    for name in ("carol", "bob", "dave"):
        await create_user(database, f"{name}@Example.com", is_active=name != "dave")
    headers = bearer(admin)
    page = (
        await client.get(f"{API}/users", params={"sort": "email", "limit": 2}, headers=headers)
    ).json()
    assert page["total"] == 4
    assert [u["email"] for u in page["items"]] == ["admin@example.com", "bob@example.com"]
    assert all("hashed_password" not in u for u in page["items"])
    second = await client.get(
        f"{API}/users", params={"sort": "email", "limit": 2, "offset": 2}, headers=headers
    )
    assert [u["email"] for u in second.json()["items"]] == ["carol@example.com", "dave@example.com"]
    filtered = await client.get(
        f"{API}/users", params={"email": "EXAMPLE.COM", "is_active": "false"}, headers=headers
    )
    assert [u["email"] for u in filtered.json()["items"]] == ["dave@example.com"]
    literal = await client.get(f"{API}/users", params={"email": "%"}, headers=headers)
    assert literal.json()["total"] == 0
    bad_sort = await client.get(f"{API}/users", params={"sort": "hashed_password"}, headers=headers)
    assert bad_sort.status_code == 422
    too_many = await client.get(f"{API}/users", params={"limit": 101}, headers=headers)
    assert too_many.status_code == 422


async def test_admin_reads_and_renames_a_user(client: httpx.AsyncClient, database: Any) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com")
    read = await client.get(f"{API}/users/{bob.id}", headers=bearer(admin))
    assert read.status_code == 200
    assert read.json()["email"] == "bob@example.com"
    renamed = await client.patch(
        f"{API}/users/{bob.id}", json={"full_name": "Bob"}, headers=bearer(admin)
    )
    assert renamed.json()["full_name"] == "Bob"
    mass = await client.patch(
        f"{API}/users/{bob.id}", json={"scopes": ["superuser"]}, headers=bearer(admin)
    )
    assert mass.status_code == 422
    missing = await client.get(f"{API}/users/{admin.id.hex[:8]}", headers=bearer(admin))
    assert missing.status_code == 422


async def test_deactivation_takes_effect_immediately(
    client: httpx.AsyncClient, database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    await create_user(database, "bob@example.com")
    bob = await tokens(client, "bob@example.com")
    bob_id = (await me(client, bob["access_token"])).json()["id"]
    response = await client.patch(
        f"{API}/users/{bob_id}", json={"is_active": False}, headers=bearer(admin)
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert (await me(client, bob["access_token"])).status_code == 401
    assert (await refresh(client, bob["refresh_token"])).status_code == 401
    assert (await login(client, "bob@example.com")).status_code == 401
    # Reactivated, the old tokens stay dead; a new login works.
    await client.patch(f"{API}/users/{bob_id}", json={"is_active": True}, headers=bearer(admin))
    assert (await me(client, bob["access_token"])).status_code == 401
    assert (await login(client, "bob@example.com")).status_code == 200


async def test_admins_cannot_touch_superusers(client: httpx.AsyncClient, database: Any) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    root = await create_user(database, "root@example.com", scopes=["superuser"])
    patch = await client.patch(
        f"{API}/users/{root.id}", json={"is_active": False}, headers=bearer(admin)
    )
    assert patch.status_code == 403
    delete = await client.delete(f"{API}/users/{root.id}", headers=bearer(admin))
    assert delete.status_code == 403
    assert (await client.get(f"{API}/users/me", headers=bearer(root))).status_code == 200


# -- superuser ----------------------------------------------------------------------------------


async def test_demotion_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, database: Any
) -> None:
    root = await create_user(database, "root@example.com", scopes=["superuser"])
    await create_user(database, "admin@example.com", scopes=["admin"])
    admin = await tokens(client, "admin@example.com")
    headers = auth(admin["access_token"])
    assert (await client.get(f"{API}/users", headers=headers)).status_code == 200
    admin_id = (await me(client, admin["access_token"])).json()["id"]
    response = await client.patch(
        f"{API}/users/{admin_id}/scopes", json={"scopes": ["regular"]}, headers=bearer(root)
    )
    assert response.status_code == 200, response.text
    assert response.json()["scopes"] == ["regular"]
    assert (await client.get(f"{API}/users", headers=headers)).status_code == 401
    assert (await refresh(client, admin["refresh_token"])).status_code == 401
    again = await tokens(client, "admin@example.com", scope="admin")
    assert again["scope"] == "regular"
    refused = await client.get(f"{API}/users", headers=auth(again["access_token"]))
    assert refused.status_code == 403


async def test_promotion_is_granted_at_the_next_login(
    client: httpx.AsyncClient, database: Any
) -> None:
    root = await create_user(database, "root@example.com", scopes=["superuser"])
    bob = await create_user(database, "bob@example.com")
    before = await tokens(client, "bob@example.com")
    response = await client.patch(
        f"{API}/users/{bob.id}/scopes", json={"scopes": ["admin"]}, headers=bearer(root)
    )
    assert response.json()["scopes"] == ["admin"]
    assert (await me(client, before["access_token"])).status_code == 200
    after = await tokens(client, "bob@example.com")
    assert after["scope"] == "admin regular"
    unknown = await client.patch(
        f"{API}/users/{bob.id}/scopes", json={"scopes": ["root"]}, headers=bearer(root)
    )
    assert unknown.status_code == 422


async def test_superuser_restores_a_deleted_user(client: httpx.AsyncClient, database: Any) -> None:
    root = await create_user(database, "root@example.com", scopes=["superuser"])
    bob = await create_user(database, "bob@example.com")
    assert (await client.delete(f"{API}/users/me", headers=bearer(bob))).status_code == 204
    assert (await client.get(f"{API}/users/{bob.id}", headers=bearer(root))).status_code == 404
    deleted = await client.get(f"{API}/users", params={"deleted": "true"}, headers=bearer(root))
    assert [u["id"] for u in deleted.json()["items"]] == [str(bob.id)]
    assert deleted.json()["items"][0]["deleted_at"] is not None
    restored = await client.post(f"{API}/users/{bob.id}/restore", headers=bearer(root))
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert (await login(client, "bob@example.com")).status_code == 200


async def test_restore_conflicts_when_the_email_was_taken_again(
    client: httpx.AsyncClient, database: Any
) -> None:
    root = await create_user(database, "root@example.com", scopes=["superuser"])
    bob = await create_user(database, "bob@example.com")
    await client.delete(f"{API}/users/me", headers=bearer(bob))
    await create_user(database, "bob@example.com")
    restored = await client.post(f"{API}/users/{bob.id}/restore", headers=bearer(root))
    assert restored.status_code == 409
