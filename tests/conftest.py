"""Shared fixtures: one user per role, clients signed in as each, the real broker's queues, a real Celery worker, a
real browser.

The suite runs on this machine's real PostgreSQL and Redis (the Makefile's `test` target sets
DATABASE_URL and CELERY_BROKER_URL); nothing here mocks them.
"""
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.management import create_contenttypes
from django.core.cache import cache
from django.test import Client

from config.celery import app as celery_app
from curation.services.roles import roles_sync
from tests.broker import Broker
from tests.jobs import real_worker

ROLE_PASSWORD = "correct-horse-battery"  # noqa: S105  (test users only)


@pytest.fixture
def roles(db) -> None:
    """The role groups with their permissions, whatever earlier transactional tests flushed.

    A transactional test's flush removes rows written by data migrations (the groups), so they are re-created
    here; the suite uses no serialized_rollback, which cannot be mixed with plain flushes on one database.
    """
    if Group.objects.filter(name__in=["admin", "curator", "reviewer"]).count() == 3 and Permission.objects.filter(
        codename="review_item"
    ).exists():
        return
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    roles_sync()


def _make_user(username: str, role: str | None, **extra: object) -> User:
    user = User.objects.create_user(username=username, password=ROLE_PASSWORD, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def curator(roles) -> User:
    return _make_user("cora", "curator")


@pytest.fixture
def reviewer(roles) -> User:
    return _make_user("remy", "reviewer")


@pytest.fixture
def second_reviewer(roles) -> User:
    return _make_user("rita", "reviewer")


@pytest.fixture
def admin(roles) -> User:
    return _make_user("ada", "admin", is_staff=True)


@pytest.fixture
def nobody(roles) -> User:
    """Signed in but in no role group."""
    return _make_user("nils", None)


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def curator_client(curator) -> Client:
    return _client_for(curator)


@pytest.fixture
def reviewer_client(reviewer) -> Client:
    return _client_for(reviewer)


@pytest.fixture
def admin_client_(admin) -> Client:
    return _client_for(admin)


@pytest.fixture
def nobody_client(nobody) -> Client:
    return _client_for(nobody)


@pytest.fixture
def role_clients(curator_client, reviewer_client, admin_client_, nobody_client, client) -> dict[str, Client]:
    """Clients by role name, plus 'anonymous', for one-line permission-matrix tests."""
    return {
        "curator": curator_client,
        "reviewer": reviewer_client,
        "admin": admin_client_,
        "nobody": nobody_client,
        "anonymous": client,
    }


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings) -> None:
    """Each test stores images and exports in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FINECURATE_UPLOAD_DIR = settings.MEDIA_ROOT / "uploads"
    settings.FINECURATE_DATA_ROOTS = [*settings.FINECURATE_DATA_ROOTS, tmp_path, settings.FINECURATE_UPLOAD_DIR]


@pytest.fixture
def broker() -> Iterator[Broker]:
    """The app's queues in the real broker, empty at the start and purged at the end; broker.sent() reads them."""
    with celery_app.connection_for_write() as connection:
        queues = Broker(connection)
        queues.purge()
        yield queues
        queues.purge()


@pytest.fixture
def celery_worker_real(transactional_db) -> Iterator[object]:
    """A real Celery worker (in a thread of this process) consuming every queue of the real broker.

    Tests using it need committed data, hence transactional_db. The queues are purged first (what earlier tests
    sent must not run here) and after (tasks restored when the worker stopped must not reach the next worker).
    """
    with real_worker() as worker:
        yield worker


CHROMIUM = "/usr/bin/chromium"


def _ensure_chromium() -> str:
    if not shutil.which(CHROMIUM):
        if os.geteuid() != 0:
            pytest.fail("Debian chromium is missing: apt-get install -y chromium")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_instance() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; Django's ORM calls in the test body are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    executable = _ensure_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser_instance) -> Iterator[object]:
    context = browser_instance.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def small_page(browser_instance) -> Iterator[object]:
    """A page at 1280x720, the smallest screen the pages are held to (decision bars, approval, downloads)."""
    context = browser_instance.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _sign_in(page, live_server, user: User):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", ROLE_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


@pytest.fixture
def login_small(small_page, live_server):
    """login() on the 1280x720 page; signing in again as someone else signs the first one out."""

    def _login(user: User):
        small_page.context.clear_cookies()
        return _sign_in(small_page, live_server, user)

    return _login


@pytest.fixture
def login(page, live_server):
    """Sign in through the real login form: login(user) -> page on the home screen."""

    def _login(user: User):
        return _sign_in(page, live_server, user)

    return _login


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    """Hashing a password the production way takes ~0.3 s; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters (the local-memory cache of tests) start empty in every test."""
    cache.clear()
