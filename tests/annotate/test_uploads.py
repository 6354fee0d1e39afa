"""Upload limits: a cap enforced while the body streams, and no body read for a visitor not signed in."""
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.core.handlers.wsgi import WSGIHandler

from annotate.uploads import CappedUploadHandler
from curation.models import Source

pytestmark = pytest.mark.django_db

CAP = 64 * 1024


@pytest.fixture(autouse=True)
def _small_cap(settings):
    settings.FINECURATE_MAX_UPLOAD_BYTES = CAP


class CountingInput(io.RawIOBase):
    """A request body that claims to be huge and counts what the server reads of it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), 1 << 16)
        buffer[:size] = b"x" * size
        self.read_bytes += size
        return size


def _send(path: str, *, length: int, cookies: str = "") -> tuple[str, CountingInput]:
    body = CountingInput()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "CONTENT_TYPE": "multipart/form-data; boundary=BOUNDARY",
        "CONTENT_LENGTH": str(length),
        "HTTP_COOKIE": cookies,
    }
    statuses: list[str] = []
    response = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
    response.close()
    return statuses[0], body


def test_an_anonymous_300_mib_post_is_refused_without_reading_its_body():
    status, body = _send("/sources/new/", length=300 * 2**20)
    assert status.startswith("413") and body.read_bytes == 0


def test_an_anonymous_post_under_the_cap_is_sent_to_sign_in_without_reading_its_body():
    status, body = _send("/sources/new/", length=CAP // 2)
    assert status.startswith("302") and body.read_bytes == 0


def test_an_anonymous_multipart_post_to_the_login_form_is_refused_unread():
    status, body = _send("/login/", length=300 * 2**20)
    assert status.startswith("413") and body.read_bytes == 0


def test_a_curator_body_declared_past_the_cap_is_refused_before_it_is_read(curator_client):
    cookies = "; ".join(f"{k}={v.value}" for k, v in curator_client.cookies.items())
    status, body = _send("/sources/new/", length=300 * 2**20, cookies=cookies)
    assert status.startswith("413") and body.read_bytes == 0


def test_an_upload_past_the_cap_is_stopped_with_a_clear_message_and_leaves_nothing(curator_client, settings):
    upload = SimpleUploadedFile("big.jsonl", b'{"a": 1}\n' * (CAP // 9 + 100))
    response = curator_client.post("/sources/new/", {"name": "big", "format": "auto", "upload": upload})
    assert response.status_code == 200
    assert "larger than this server accepts" in response.content.decode()
    assert not Source.objects.exists()
    assert not any(Path(settings.FINECURATE_UPLOAD_DIR).rglob("*.jsonl")) if Path(settings.FINECURATE_UPLOAD_DIR).exists() else True


def test_an_upload_under_the_cap_is_registered(curator_client):
    upload = SimpleUploadedFile("small.jsonl", b'{"a": 1}\n' * 100)
    response = curator_client.post("/sources/new/", {"name": "small", "format": "auto", "upload": upload})
    assert response.status_code == 302 and Source.objects.filter(name="small").exists()


def test_the_handler_stops_at_the_first_chunk_past_the_cap():
    handler = CappedUploadHandler()
    handler.handle_raw_input(None, {}, 10 * CAP, b"BOUNDARY")
    chunk = b"x" * 16 * 1024
    passed = 0
    with pytest.raises(StopUpload) as stopped:
        for start in range(0, 10 * CAP, len(chunk)):
            handler.receive_data_chunk(chunk, start)
            passed += len(chunk)
    assert stopped.value.connection_reset and passed <= CAP
