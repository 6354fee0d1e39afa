"""Every page and endpoint, walked from the URL configuration: nobody gets in without signing in, and a user
in no role group gets nothing but the pages any signed-in person may see."""
import re

import pytest
from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver

# Open to everyone: signing in and out.
PUBLIC = {"login", "logout"}
# Open to any signed-in user, whatever their role: the home page, their own API token, the API's description.
ANY_SIGNED_IN = {"home", "api_token", "api-schema", "api-docs", "api-redoc"}
SAMPLE_ARGUMENT = {"int": "1", "path": "a.parquet"}


def _routes() -> list[tuple[str, str]]:
    def walk(resolver: URLResolver, prefix: str = ""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield prefix + str(pattern.pattern), pattern.name

    routes = []
    for route, name in walk(get_resolver()):
        if route.startswith("admin/"):
            continue
        if route.startswith("^"):  # a regex route: the image view
            path = "/images/" + "0" * 64 + "/"
        else:
            path = "/" + re.sub(r"<(\w+):\w+>", lambda m: SAMPLE_ARGUMENT[m.group(1)], route)
        routes.append((path, name))
    return routes


ROUTES = _routes()


def test_the_walk_finds_every_area():
    names = {name for _, name in ROUTES}
    assert {"source_list", "mapping_page", "review_home", "subset_list", "export_list", "audit", "dashboard"} <= names
    assert {"api-exports", "api-subsets", "api-review-queues", "api-sources"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "name"), [r for r in ROUTES if r[1] not in PUBLIC])
def test_anonymous_users_are_sent_to_sign_in_or_refused(client, path, name):
    for method in (client.get, client.post):
        response = method(path)
        if path.startswith("/api/"):
            assert response.status_code in (401, 403), (name, method.__name__, response.status_code)
        elif response.status_code == 405:  # the method is not offered at all
            continue
        else:
            assert response.status_code == 302 and "/login/" in response["Location"], (name, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "name"), [r for r in ROUTES if r[1] not in PUBLIC | ANY_SIGNED_IN])
def test_a_user_in_no_role_gets_nothing(nobody_client, path, name):
    for method in (nobody_client.get, nobody_client.post):
        response = method(path)
        # 404 is fine too: object lookups may come first for ids that do not exist; nothing is shown either way.
        assert response.status_code in (403, 404, 405), (name, method.__name__, response.status_code)
