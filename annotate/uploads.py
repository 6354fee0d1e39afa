"""Request bodies: a cap on uploads enforced while they stream, and no body parsed for a visitor not signed in.

FINECURATE_MAX_UPLOAD_BYTES caps the files of a request (nginx carries the same figure as client_max_body_size).
A body that says it is larger than the cap and the form fields together is answered 413 before a byte of it is
read; the file parts of any other are counted as they stream and stopped as soon as they pass the cap
(CappedUploadHandler), and the form says why.
"""
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse

# Sign-in forms are a few hundred bytes; an anonymous body larger than this is never read.
ANONYMOUS_BODY_BYTES = 64 * 1024
# Bodies a visitor not signed in may send: the sign-in forms. The API authenticates before it parses (DRF).
ANONYMOUS_BODY_PATHS = ("/login/", "/admin/login/", "/api/")


def upload_cap_message() -> str:
    cap = settings.FINECURATE_MAX_UPLOAD_BYTES
    return (
        f"The upload is larger than this server accepts ({cap / 2**20:,.0f} MiB, FINECURATE_MAX_UPLOAD_BYTES); "
        "put the file under a data root and register its path instead."
    )


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


class RequestBodyGuardMiddleware:
    """Runs before any view (and before CSRF reads the form): refuses bodies the view would not want."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = _content_length(request)
        # The cap counts file bytes; the form fields beside them may add up to DATA_UPLOAD_MAX_MEMORY_SIZE.
        if length is not None and length > settings.FINECURATE_MAX_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return HttpResponse(upload_cap_message(), status=413, content_type="text/plain; charset=utf-8")
        has_body = (length or 0) > 0 or "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if has_body and not request.path.startswith("/api/") and not request.user.is_authenticated:
            if not request.path.startswith(ANONYMOUS_BODY_PATHS):
                # The redirect an anonymous POST got anyway, without parsing what came with it.
                return redirect_to_login(request.get_full_path())
            if length is None or length > ANONYMOUS_BODY_BYTES:
                return HttpResponse("Sign in first.", status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class CappedUploadHandler(FileUploadHandler):
    """First of the upload handlers: counts every byte of every file part and stops the upload past the cap."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803
        self.received = 0
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.FINECURATE_MAX_UPLOAD_BYTES:
            if self.request is not None:
                self.request.upload_refused = upload_cap_message()  # type: ignore[attr-defined]
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
