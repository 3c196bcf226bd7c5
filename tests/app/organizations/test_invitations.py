"""Invitations end to end: a real SMTP server receives the invitation, the invitee (with or
without an account yet) accepts it through the API — on both legs."""

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.organizations.models import Invitation
from app.users.models import User
from core.db import utcnow
from tests.app.organizations.support import create_organization
from tests.app.users.email_support import mail_app, register
from tests.app.users.support import tokens
from tests.helpers import API, Actor, actor
from tests.smtp import SmtpServer, link_in, text_of, token_in


async def verified(database: Any, name: str) -> Actor:
    someone = await actor(database, name)
    await set_verified(database, someone.user.email)
    return someone


async def set_verified(database: Any, email: str) -> None:
    async with database.session() as session:
        await session.execute(update(User).where(User.email == email).values(email_verified=True))
        await session.commit()


async def invite(
    client: httpx.AsyncClient, admin: Actor, org: str, email: str, role: str = "member"
) -> httpx.Response:
    return await client.post(
        f"{API}/organizations/{org}/invitations",
        json={"email": email, "role": role},
        headers=admin.headers,
    )


async def accept(client: httpx.AsyncClient, who: dict[str, str], token: str) -> httpx.Response:
    return await client.post(f"{API}/invitations/accept", json={"token": token}, headers=who)


async def my_role(client: httpx.AsyncClient, who: dict[str, str], org: str) -> str | None:
    response = await client.get(f"{API}/organizations/{org}", headers=who)
    return str(response.json()["role"]) if response.status_code == 200 else None


async def test_an_address_without_an_account_registers_verifies_and_joins_with_the_role(
    smtp: SmtpServer, database: Any
) -> None:
    async with mail_app(smtp, EMAIL_PRODUCT_NAME="Acme Chat") as mail:
        alice = await verified(database, "alice")
        org = await create_organization(mail.client, alice, "Acme")
        sent = await invite(mail.client, alice, org, "New.Person@Example.com", "admin")
        assert sent.status_code == 201, sent.text
        assert sent.json()["email"] == "new.person@example.com"
        message = await smtp.wait_for_message("new.person@example.com")
        assert message["Subject"] == "You are invited to join Acme on Acme Chat"
        assert "as an admin" in text_of(message) and "Alice" in text_of(message)
        assert link_in(message).startswith("http://localhost:8080/invitations/accept?token=")
        invitation_token = token_in(message)

        await register(mail.client, "new.person@example.com")
        verify = await smtp.wait_for_message("new.person@example.com", count=2)
        confirmed = await mail.client.post(
            f"{API}/auth/verify-email", json={"token": token_in(verify)}
        )
        assert confirmed.status_code == 204
        access = (await tokens(mail.client, "new.person@example.com"))["access_token"]
        newcomer = {"Authorization": f"Bearer {access}"}
        joined = await accept(mail.client, newcomer, invitation_token)
        assert joined.status_code == 200, joined.text
        assert (joined.json()["id"], joined.json()["role"]) == (org, "admin")
        assert await my_role(mail.client, newcomer, org) == "admin"


async def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    smtp: SmtpServer, database: Any
) -> None:
    async with mail_app(smtp) as mail:
        alice = await verified(database, "alice")
        await actor(database, "known")
        org = await create_organization(mail.client, alice, "Acme")
        known = await invite(mail.client, alice, org, "known@example.com")
        unknown = await invite(mail.client, alice, org, "unknown@example.com")
        assert known.status_code == unknown.status_code == 201

        def shape(body: dict[str, Any]) -> dict[str, Any]:
            varying = ("id", "email", "created_at", "updated_at", "expires_at")
            return {k: v for k, v in body.items() if k not in varying}

        assert shape(known.json()) == shape(unknown.json())
        first = await smtp.wait_for_message("known@example.com")
        second = await smtp.wait_for_message("unknown@example.com")
        assert text_of(first).replace("known@", "X@") == text_of(second).replace(
            "unknown@", "X@"
        ).replace(token_in(second), token_in(first))


async def test_the_token_is_stored_only_as_its_hash(smtp: SmtpServer, database: Any) -> None:
    async with mail_app(smtp) as mail:
        alice = await verified(database, "alice")
        org = await create_organization(mail.client, alice, "Acme")
        await invite(mail.client, alice, org, "bob@example.com")
        token = token_in(await smtp.wait_for_message("bob@example.com"))
    async with database.session() as session:
        [row] = (await session.scalars(select(Invitation))).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(vars(row))


@pytest.mark.parametrize("case", ["used twice", "expired", "revoked", "forged", "deleted org"])
async def test_a_spent_or_bad_invitation_is_one_400(
    smtp: SmtpServer, database: Any, case: str
) -> None:
    async with mail_app(smtp) as mail:
        alice = await verified(database, "alice")
        bob = await verified(database, "bob")
        org = await create_organization(mail.client, alice, "Acme")
        invitation = (await invite(mail.client, alice, org, "bob@example.com")).json()
        token = token_in(await smtp.wait_for_message("bob@example.com"))
        if case == "used twice":
            assert (await accept(mail.client, bob.headers, token)).status_code == 200
            leave = await mail.client.post(f"{API}/organizations/{org}/leave", headers=bob.headers)
            assert leave.status_code == 204  # not a member any more: the link is still spent
        elif case == "expired":
            async with database.session() as session:
                past = utcnow() - timedelta(seconds=1)
                await session.execute(update(Invitation).values(expires_at=past))
                await session.commit()
        elif case == "revoked":
            url = f"{API}/organizations/{org}/invitations/{invitation['id']}"
            assert (await mail.client.delete(url, headers=alice.headers)).status_code == 204
            listed = await mail.client.get(url, headers=alice.headers)
            assert listed.json()["revoked_at"] is not None
        elif case == "forged":
            token = token[:-4] + "AAAA"
        else:
            gone = await mail.client.delete(f"{API}/organizations/{org}", headers=alice.headers)
            assert gone.status_code == 204
        response = await accept(mail.client, bob.headers, token)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"].startswith("The invitation is invalid")
        assert await my_role(mail.client, bob.headers, org) is None


async def test_only_the_invited_verified_address_can_accept(
    smtp: SmtpServer, database: Any
) -> None:
    async with mail_app(smtp) as mail:
        alice = await verified(database, "alice")
        carol = await verified(database, "carol")
        bob = await actor(database, "bob")  # not verified yet
        org = await create_organization(mail.client, alice, "Acme")
        await invite(mail.client, alice, org, "bob@example.com")
        token = token_in(await smtp.wait_for_message("bob@example.com"))
        for who in (carol, bob):
            refused = await accept(mail.client, who.headers, token)
            assert refused.status_code == 403, refused.text
            assert refused.json()["detail"].startswith("This invitation was sent to another")
        await set_verified(database, "bob@example.com")
        assert (await accept(mail.client, bob.headers, token)).status_code == 200
        assert await my_role(mail.client, carol.headers, org) is None
        assert await my_role(mail.client, bob.headers, org) == "member"


async def test_resend_gives_a_new_link_kills_the_old_one_and_is_throttled(
    smtp: SmtpServer, database: Any
) -> None:
    async with mail_app(smtp, RATE_LIMIT_INVITATION_ADDRESS="3/1h") as mail:
        alice = await verified(database, "alice")
        bob = await verified(database, "bob")
        org = await create_organization(mail.client, alice, "Acme")
        invitation = (await invite(mail.client, alice, org, "bob@example.com")).json()
        first = token_in(await smtp.wait_for_message("bob@example.com"))
        url = f"{API}/organizations/{org}/invitations/{invitation['id']}/resend"
        resent = await mail.client.post(url, headers=alice.headers)
        assert resent.status_code == 202, resent.text
        second = token_in(await smtp.wait_for_message("bob@example.com", count=2))
        assert second != first
        assert (await mail.client.post(url, headers=alice.headers)).status_code == 202
        throttled = await mail.client.post(url, headers=alice.headers)
        assert throttled.status_code == 429
        await mail.settle()
        assert len(smtp.messages("bob@example.com")) == 3
        assert (await accept(mail.client, bob.headers, first)).status_code == 400
        third = token_in(smtp.messages("bob@example.com")[2])
        assert (await accept(mail.client, bob.headers, third)).status_code == 200


async def test_invitations_are_listed_for_admins_and_refused_twice(
    smtp: SmtpServer, database: Any
) -> None:
    async with mail_app(smtp) as mail:
        alice = await verified(database, "alice")
        org = await create_organization(mail.client, alice, "Acme")
        assert (await invite(mail.client, alice, org, "bob@example.com")).status_code == 201
        again = await invite(mail.client, alice, org, "BOB@example.com")
        assert again.status_code == 409
        member = await invite(mail.client, alice, org, "alice@example.com")
        assert member.status_code == 409
        listed = await mail.client.get(
            f"{API}/organizations/{org}/invitations", headers=alice.headers
        )
        assert [i["email"] for i in listed.json()["items"]] == ["bob@example.com"]
        bad = await invite(mail.client, alice, org, "not-an-address")
        assert bad.status_code == 422
        missing = await mail.client.post(
            f"{API}/organizations/{uuid.uuid4()}/invitations",
            json={"email": "x@example.com"},
            headers=alice.headers,
        )
        assert missing.status_code == 404
