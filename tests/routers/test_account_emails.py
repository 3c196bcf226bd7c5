"""Account emails end to end: a real SMTP server receives the message, the test follows its
link through the API (or the HTML page it opens) and checks the account — on both legs."""

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.users.models import EmailToken, User
from core.db import utcnow
from core.platform.jobs.metrics import JOB_RUNS
from tests.app.users.email_support import mail_app, register
from tests.app.users.support import API, auth, login, me, refresh, tokens
from tests.helpers import DEFAULT_PASSWORD, PATIENT, create_user
from tests.jobs_support import wait_until
from tests.smtp import SmtpServer, html_of, link_in, text_of, token_in

NEW_PASSWORD = "a brand new password"


async def email_tokens(database: Any) -> list[EmailToken]:
    async with database.session() as session:
        return list((await session.scalars(select(EmailToken))).all())


# -- verify -------------------------------------------------------------------------------------


async def test_register_sends_a_verification_link_that_verifies(
    smtp: SmtpServer, database: Any
) -> None:
    async with mail_app(smtp, EMAIL_PRODUCT_NAME="Acme Chat") as mail:
        body = await register(mail.client)
        assert body["email_verified"] is False
        message = await smtp.wait_for_message("alice@example.com")
        assert message["Subject"] == "Confirm your email address for Acme Chat"
        link = link_in(message)
        assert link.startswith("http://localhost:8080/account/verify-email?token=")
        assert link in html_of(message)
        assert "Alice" in text_of(message)

        page = await mail.client.get(link.removeprefix("http://localhost:8080"))
        assert page.status_code == 200
        assert 'action="/account/verify-email"' in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "script" not in page.text

        response = await mail.client.post(
            f"{API}/auth/verify-email", json={"token": token_in(message)}
        )
        assert response.status_code == 204, response.text
        access = (await tokens(mail.client))["access_token"]
        assert (await me(mail.client, access)).json()["email_verified"] is True


async def test_registering_a_taken_address_tells_its_owner_not_the_caller(
    smtp: SmtpServer, database: Any
) -> None:
    await create_user(database, "alice@example.com")
    async with mail_app(smtp, EMAIL_PRODUCT_NAME="Acme Chat") as mail:
        url = f"{API}/auth/register"
        body = {"password": "long enough", "full_name": "Eve"}
        known = await mail.client.post(url, json={**body, "email": "Alice@Example.com"})
        unknown = await mail.client.post(url, json={**body, "email": "bob@example.com"})
        notice = await smtp.wait_for_message("alice@example.com")
        await smtp.wait_for_message("bob@example.com")
        await mail.settle()
    assert known.status_code == unknown.status_code == 201
    assert set(known.json()) == set(unknown.json())
    assert notice["Subject"] == "Someone tried to register with your Acme Chat address"
    assert "token=" not in text_of(notice)  # nothing to follow: the account is unchanged
    assert await email_tokens(database) != []  # bob's verification link only
    assert {t.new_email for t in await email_tokens(database)} == {None}


async def test_links_follow_the_served_port_when_email_base_url_is_unset(
    smtp: SmtpServer,
) -> None:
    async with mail_app(smtp, APP_PORT="8091", EMAIL_BASE_URL="") as mail:
        await register(mail.client)
        message = await smtp.wait_for_message("alice@example.com")
    assert link_in(message).startswith("http://localhost:8091/account/verify-email?token=")
    assert "http://localhost:8080" not in text_of(message)


async def test_the_token_is_stored_only_as_its_hash(smtp: SmtpServer, database: Any) -> None:
    async with mail_app(smtp) as mail:
        await register(mail.client)
        token = token_in(await smtp.wait_for_message("alice@example.com"))
    [row] = await email_tokens(database)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(vars(row))


@pytest.mark.parametrize("case", ["reused", "forged", "expired", "other purpose"])
async def test_a_bad_link_is_one_400_in_the_problem_shape(
    smtp: SmtpServer, database: Any, case: str
) -> None:
    async with mail_app(smtp) as mail:
        await register(mail.client)
        token = token_in(await smtp.wait_for_message("alice@example.com"))
        url = f"{API}/auth/verify-email"
        if case == "reused":
            assert (await mail.client.post(url, json={"token": token})).status_code == 204
        elif case == "forged":
            token = token[:-4] + "AAAA"
        elif case == "expired":
            async with database.session() as session:
                past = utcnow() - timedelta(seconds=1)
                await session.execute(update(EmailToken).values(expires_at=past))
                await session.commit()
        else:
            url = f"{API}/auth/email-change/confirm"
        response = await mail.client.post(url, json={"token": token})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://plinth.dev/problems/bad-request"
    assert body["detail"].startswith("The link is invalid, was already used or has expired")


async def test_resend_answers_the_same_for_every_address_and_supersedes_the_old_link(
    smtp: SmtpServer,
) -> None:
    async with mail_app(smtp) as mail:
        await register(mail.client)
        first = token_in(await smtp.wait_for_message("alice@example.com"))
        url = f"{API}/auth/verify-email/resend"
        known = await mail.client.post(url, json={"email": "alice@example.com"})
        unknown = await mail.client.post(url, json={"email": "nobody@example.com"})
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
        assert known.status_code == 202
        second = token_in(await smtp.wait_for_message("alice@example.com", count=2))
        await mail.settle()
        assert smtp.messages("nobody@example.com") == []
        verify = f"{API}/auth/verify-email"
        assert (await mail.client.post(verify, json={"token": first})).status_code == 400
        assert (await mail.client.post(verify, json={"token": second})).status_code == 204
        # verified: another resend sends nothing
        await mail.client.post(url, json={"email": "alice@example.com"})
        await mail.settle()
    assert len(smtp.messages("alice@example.com")) == 2


async def test_unverified_accounts_may_log_in_unless_the_setting_says_no(
    smtp: SmtpServer,
) -> None:
    async with mail_app(smtp, AUTH_ALLOW_UNVERIFIED_LOGIN="false") as mail:
        await register(mail.client)
        refused = await login(mail.client)
        assert refused.status_code == 403
        assert "Confirm your email address first" in refused.json()["detail"]
        token = token_in(await smtp.wait_for_message("alice@example.com"))
        await mail.client.post(f"{API}/auth/verify-email", json={"token": token})
        assert (await login(mail.client)).status_code == 200


async def test_unverified_login_is_allowed_by_default(smtp: SmtpServer) -> None:
    async with mail_app(smtp) as mail:
        await register(mail.client)
        access = (await tokens(mail.client))["access_token"]
        assert (await me(mail.client, access)).json()["email_verified"] is False


# -- reset --------------------------------------------------------------------------------------


async def test_reset_answers_the_same_for_known_and_unknown_addresses(
    smtp: SmtpServer, database: Any
) -> None:
    await create_user(database, "alice@example.com")
    async with mail_app(smtp) as mail:
        url = f"{API}/auth/password-reset"
        known = await mail.client.post(url, json={"email": "alice@example.com"})
        unknown = await mail.client.post(url, json={"email": "nobody@example.com"})
        await smtp.wait_for_message("alice@example.com")
        await mail.settle()
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert smtp.messages("nobody@example.com") == []


async def test_reset_sets_the_password_revokes_every_session_and_works_once(
    smtp: SmtpServer, database: Any
) -> None:
    await create_user(database, "alice@example.com")
    async with mail_app(smtp) as mail:
        before = await tokens(mail.client)
        await mail.client.post(f"{API}/auth/password-reset", json={"email": "alice@example.com"})
        message = await smtp.wait_for_message("alice@example.com")
        assert "30 minutes" in text_of(message)
        assert link_in(message).startswith("http://localhost:8080/account/reset-password?token=")
        body = {"token": token_in(message), "password": NEW_PASSWORD}
        url = f"{API}/auth/password-reset/confirm"
        assert (await mail.client.post(url, json=body)).status_code == 204

        assert (await me(mail.client, before["access_token"])).status_code == 401
        assert (await refresh(mail.client, before["refresh_token"])).status_code == 401
        assert (await login(mail.client)).status_code == 401
        assert (await login(mail.client, password=NEW_PASSWORD)).status_code == 200
        again = await mail.client.post(url, json={**body, "password": "yet another one"})
        assert again.status_code == 400
        assert (await login(mail.client, password=NEW_PASSWORD)).status_code == 200


async def test_reset_token_expires(smtp: SmtpServer, database: Any) -> None:
    await create_user(database, "alice@example.com")
    async with mail_app(smtp) as mail:
        await mail.client.post(f"{API}/auth/password-reset", json={"email": "alice@example.com"})
        token = token_in(await smtp.wait_for_message("alice@example.com"))
        [row] = await email_tokens(database)
        assert timedelta(minutes=29) < row.expires_at - utcnow() <= timedelta(minutes=30)
        async with database.session() as session:
            await session.execute(update(EmailToken).values(expires_at=utcnow()))
            await session.commit()
        body = {"token": token, "password": NEW_PASSWORD}
        response = await mail.client.post(f"{API}/auth/password-reset/confirm", json=body)
        assert response.status_code == 400
        assert (await login(mail.client)).status_code == 200


async def test_reset_through_the_html_page(smtp: SmtpServer, database: Any) -> None:
    await create_user(database, "alice@example.com")
    async with mail_app(smtp) as mail:
        await mail.client.post(f"{API}/auth/password-reset", json={"email": "alice@example.com"})
        token = token_in(await smtp.wait_for_message("alice@example.com"))
        form = await mail.client.get("/account/reset-password", params={"token": token})
        assert form.status_code == 200
        assert 'name="password"' in form.text and token in form.text
        short = await mail.client.post(
            "/account/reset-password", data={"token": token, "password": "short"}
        )
        assert short.status_code == 400
        assert "at least 8 characters" in short.text
        done = await mail.client.post(
            "/account/reset-password", data={"token": token, "password": NEW_PASSWORD}
        )
        assert done.status_code == 200
        assert "log in with the new password" in done.text
        assert (await login(mail.client, password=NEW_PASSWORD)).status_code == 200
        reused = await mail.client.post(
            "/account/reset-password", data={"token": token, "password": NEW_PASSWORD}
        )
        assert reused.status_code == 400
        assert "already used" in reused.text


async def test_a_reset_password_follows_the_policy(smtp: SmtpServer, database: Any) -> None:
    async with mail_app(smtp) as mail:
        body = {"token": "x" * 43, "password": "short"}
        response = await mail.client.post(f"{API}/auth/password-reset/confirm", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "password"]


# -- change address -----------------------------------------------------------------------------


async def test_change_address_confirms_the_new_one_and_tells_the_old_one(
    smtp: SmtpServer, database: Any
) -> None:
    await create_user(database, "alice@example.com")
    async with mail_app(smtp) as mail:
        access = (await tokens(mail.client))["access_token"]
        url = f"{API}/users/me/email"
        wrong = {"email": "alice@new.example", "current_password": "not my password"}
        refused = await mail.client.post(url, json=wrong, headers=auth(access))
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["body", "current_password"]

        body = {"email": "Alice@New.example", "current_password": DEFAULT_PASSWORD}
        response = await mail.client.post(url, json=body, headers=auth(access))
        assert response.status_code == 202, response.text
        confirm = await smtp.wait_for_message("alice@new.example")
        notice = await smtp.wait_for_message("alice@example.com")
        assert "alice@new.example" in text_of(notice)
        assert "?token=" not in text_of(notice)
        assert (await me(mail.client, access)).json()["email"] == "alice@example.com"

        link = link_in(confirm)
        assert link.startswith("http://localhost:8080/account/confirm-email?token=")
        done = await mail.client.post("/account/confirm-email", data={"token": token_in(confirm)})
        assert done.status_code == 200
        account = (await me(mail.client, access)).json()
        assert (account["email"], account["email_verified"]) == ("alice@new.example", True)
        assert (await login(mail.client, "alice@new.example")).status_code == 200
        assert (await login(mail.client, "alice@example.com")).status_code == 401


async def test_change_to_an_address_taken_meanwhile_is_a_conflict(
    smtp: SmtpServer, database: Any
) -> None:
    await create_user(database, "alice@example.com")
    async with mail_app(smtp) as mail:
        access = (await tokens(mail.client))["access_token"]
        body = {"email": "bob@example.com", "current_password": DEFAULT_PASSWORD}
        await mail.client.post(f"{API}/users/me/email", json=body, headers=auth(access))
        token = token_in(await smtp.wait_for_message("bob@example.com"))
        await create_user(database, "bob@example.com")
        url = f"{API}/auth/email-change/confirm"
        response = await mail.client.post(url, json={"token": token})
    assert response.status_code == 409
    async with database.session() as session:
        emails = set((await session.scalars(select(User.email))).all())
    assert emails == {"alice@example.com", "bob@example.com"}


async def test_an_address_change_kills_the_links_sent_to_the_old_address(
    smtp: SmtpServer, database: Any
) -> None:
    await create_user(database, "alice@example.com")
    async with mail_app(smtp) as mail:
        access = (await tokens(mail.client))["access_token"]
        await mail.client.post(f"{API}/auth/password-reset", json={"email": "alice@example.com"})
        reset = token_in(await smtp.wait_for_message("alice@example.com"))
        body = {"email": "alice@new.example", "current_password": DEFAULT_PASSWORD}
        await mail.client.post(f"{API}/users/me/email", json=body, headers=auth(access))
        change = token_in(await smtp.wait_for_message("alice@new.example"))
        confirm = await mail.client.post(f"{API}/auth/email-change/confirm", json={"token": change})
        assert confirm.status_code == 204
        body = {"token": reset, "password": NEW_PASSWORD}
        response = await mail.client.post(f"{API}/auth/password-reset/confirm", json=body)
    assert response.status_code == 400


# -- rate limits --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/auth/password-reset", "/auth/verify-email/resend", "/auth/register"]
)
async def test_mail_is_limited_per_address_the_same_for_unknown_ones(
    smtp: SmtpServer, path: str
) -> None:
    async with mail_app(smtp, **PATIENT, RATE_LIMIT_EMAIL_ADDRESS="2/1h") as mail:
        answers = []
        for email in ["known@example.com"] * 3 + ["other@example.com"]:
            body = {"email": email, "password": DEFAULT_PASSWORD}
            if path != "/auth/register":
                body.pop("password")
            answers.append((await mail.client.post(f"{API}{path}", json=body)).status_code)
        await mail.settle()
    assert answers[2] == 429
    assert answers[3] != 429


async def test_mail_is_limited_per_ip(smtp: SmtpServer, database: Any) -> None:
    await create_user(database, "alice@example.com")
    async with mail_app(smtp, **PATIENT, RATE_LIMIT_EMAIL_IP="3/1h") as mail:
        access = (await tokens(mail.client))["access_token"]
        statuses = []
        for n in range(3):
            body = {"email": f"user{n}@example.com"}
            statuses.append(
                (await mail.client.post(f"{API}/auth/password-reset", json=body)).status_code
            )
        change = {"email": "alice@new.example", "current_password": DEFAULT_PASSWORD}
        limited = await mail.client.post(f"{API}/users/me/email", json=change, headers=auth(access))
        await mail.settle()
    assert statuses == [202, 202, 202]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert "Retry-After" in limited.headers


# -- delivery -----------------------------------------------------------------------------------


async def test_smtp_down_the_job_is_retried_then_delivered(smtp: SmtpServer, database: Any) -> None:
    await create_user(database, "alice@example.com")
    failures = JOB_RUNS.labels(job="users.send_password_reset", outcome="error")
    before = failures._value.get()
    async with mail_app(smtp, JOBS_RETRY_BASE_SECONDS="0.2", JOBS_RETRY_MAX_SECONDS="2") as mail:
        smtp.stop()
        await mail.client.post(f"{API}/auth/password-reset", json={"email": "alice@example.com"})

        async def failed_once() -> bool:
            return bool(failures._value.get() > before)

        await wait_until(failed_once)
        smtp.start()
        message = await smtp.wait_for_message("alice@example.com")
        await mail.settle()
    assert len(smtp.messages("alice@example.com")) == 1
    assert len(await email_tokens(database)) == 1  # the retry reused its token
    body = {"token": token_in(message), "password": NEW_PASSWORD}
    async with mail_app(smtp) as mail:
        response = await mail.client.post(f"{API}/auth/password-reset/confirm", json=body)
    assert response.status_code == 204


async def test_embedded_default_writes_an_outbox_and_logs_the_link_without_its_token(
    leg: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="plinth.users.email")
    outbox = leg.data_dir / "outbox"
    earlier = set(outbox.glob("*.eml"))  # other tests of this run may have written some
    async with mail_app(None) as mail:
        await register(mail.client)

        async def written() -> bool:
            return bool(set(outbox.glob("*.eml")) - earlier)

        await wait_until(written)
        await mail.settle()
    [eml] = [
        path
        for path in set(outbox.glob("*.eml")) - earlier
        if b"alice@example.com" in path.read_bytes()
    ]
    from email import message_from_bytes, policy

    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    token = token_in(message)
    logged = [record.getMessage() for record in caplog.records]
    assert any("verify-email?token=[redacted]" in line for line in logged), logged
    assert not any(token in line for line in logged)  # the link itself is in the .eml only
    eml.unlink()


async def test_starttls_with_a_verified_certificate(database: Any) -> None:
    server = SmtpServer(tls=True)
    server.start()
    try:
        async with mail_app(server) as mail:
            await register(mail.client)
            message = await server.wait_for_message("alice@example.com")
    finally:
        server.stop()
    assert token_in(message)


async def test_an_unverifiable_certificate_is_refused_retried_then_recorded(
    database: Any,
) -> None:
    from core.platform.jobs import FailedJob

    server = SmtpServer(tls=True)
    server.start()
    try:
        untrusted = server.env(EMAIL_SMTP_CA_FILE="", JOBS_MAX_ATTEMPTS="2")
        async with mail_app(None, **untrusted) as mail:
            await register(mail.client)
            await mail.settle()

            async def recorded() -> bool:
                async with database.session() as session:
                    return bool((await session.scalars(select(FailedJob))).all())

            await wait_until(recorded)
    finally:
        server.stop()
    assert server.messages() == []
    async with database.session() as session:
        [failed] = (await session.scalars(select(FailedJob))).all()
    assert (failed.job, failed.attempts) == ("users.send_verification", 2)
    assert "certificate" in failed.error.lower()
    assert failed.arguments == {"email": "alice@example.com"}  # no token in the record
