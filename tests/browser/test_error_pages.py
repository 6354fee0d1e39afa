"""In a real browser at 1280x720: refused and missing pages are pages of the app, not Django's."""
import logging

import pytest
from django.urls import include, path

from tests.factories import source_make


def _fails(request):
    raise RuntimeError("a bug in a view")


# The app's URLs plus one page that fails the way a bug does (test_an_uncaught_error_is_the_apps_500 uses them).
urlpatterns = [path("fails/", _fails), path("", include("config.urls"))]
handler403 = "annotate.views.errors.page_forbidden"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_refused_a_curators_page_sees_why_with_the_apps_navigation(small_page, login_small, live_server, reviewer, caplog):
    login_small(reviewer)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = small_page.goto(f"{live_server.url}/sources/new/")
    assert response.status == 403
    assert small_page.locator("h1").inner_text() == "Not for your role"
    assert "This page is for curators and admins; you are a reviewer." in small_page.inner_text("main")
    assert small_page.locator("header.topbar nav a", has_text="Subsets").is_visible()
    small_page.click("text=Back to your start page")
    small_page.wait_for_url(f"{live_server.url}/")
    assert not [r for r in caplog.records if r.exc_info], "a refused page must not log a traceback"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_unknown_address_and_a_deleted_object_are_the_apps_404(small_page, login_small, live_server, curator):
    login_small(curator)
    response = small_page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    assert small_page.locator("h1").inner_text() == "Not found"
    assert "URLconf" not in small_page.content()
    source = source_make(name="gone")
    source_id = source.pk
    source.delete()
    response = small_page.goto(f"{live_server.url}/sources/{source_id}/")
    assert response.status == 404 and "may have been deleted" in small_page.inner_text("main")
    assert small_page.locator("header.topbar nav").is_visible()


@pytest.mark.django_db
def test_the_dev_servers_url_listing_is_never_shown(curator_client, settings):
    settings.DEBUG = True
    response = curator_client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content and b"URLconf" not in response.content
    # An address missing only its slash still goes where it meant to.
    assert curator_client.get("/sources").status_code in (301, 302)


@pytest.mark.django_db
def test_a_user_in_no_role_is_told_to_ask_an_admin(nobody_client):
    response = nobody_client.get("/sources/new/")
    assert response.status_code == 403 and b"no role yet" in response.content


@pytest.mark.django_db
def test_the_api_keeps_its_error_shape(curator_client):
    response = curator_client.get("/api/no-such-endpoint/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_api_docs_link_back_to_the_app(small_page, login_small, live_server, curator):
    login_small(curator)
    small_page.goto(f"{live_server.url}/api/docs/")
    back = small_page.locator("a", has_text="Back to FineCurate")
    back.wait_for()
    assert back.get_attribute("href") == "/"
    assert small_page.locator("a", has_text="get your token").get_attribute("href") == "/token/"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_uncaught_error_is_the_apps_500_with_its_navigation_and_a_way_back(small_page, login_small, live_server, curator,
                                                                              settings, caplog):
    settings.ROOT_URLCONF = __name__
    login_small(curator)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = small_page.goto(f"{live_server.url}/fails/")
    assert response.status == 500
    assert small_page.locator("h1").inner_text() == "Server error"
    assert "the failure is logged" in small_page.inner_text("main")
    assert "Traceback" not in small_page.content() and "RuntimeError" not in small_page.content()
    assert small_page.locator("header.topbar nav a", has_text="Sources").is_visible()
    assert [r for r in caplog.records if r.exc_info], "a server error is logged with its traceback"
    small_page.click("text=Back to your start page")
    small_page.wait_for_url(f"{live_server.url}/")
