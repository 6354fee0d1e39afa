"""Resumable file downloads: HTTP Range (RFC 9110) on a file streamed from disk, never read whole.

One byte range per request (a multi-range request gets the whole file, which the RFC allows); the ETag is
the file's sha256, so If-Range and If-None-Match let a client resume only while the file is unchanged.
"""
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.http import content_disposition_header

from curation.api.errors import error_body
from curation.errors import ApplicationError

CHUNK_SIZE = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ApplicationError):
    code = "range_not_satisfiable"
    status = 416


def range_parse(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for one satisfiable range; None to send the whole file; RangeNotSatisfiable otherwise."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None  # several ranges or another unit: ignoring Range is allowed
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(f"cannot send the last {suffix} bytes of a {size}-byte file")
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # invalid range: ignore it
    if start >= size:
        raise RangeNotSatisfiable(f"the range starts at byte {start}, beyond the end of the file")
    return start, end


def _stream(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag in candidates


def _accel_redirect(path: Path) -> str | None:
    """The internal nginx location of a file under MEDIA_ROOT, when the app runs behind nginx."""
    prefix = settings.FINECURATE_ACCEL_REDIRECT_PREFIX
    if not prefix:
        return None
    try:
        relative = path.resolve().relative_to(Path(settings.MEDIA_ROOT).resolve())
    except ValueError:
        return None
    return prefix.rstrip("/") + "/" + quote(relative.as_posix())


def file_response(
    request: HttpRequest, *, path: Path, size: int, sha256: str, filename: str, content_type: str
) -> HttpResponseBase:
    etag = f'"{sha256}"'
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Content-Disposition": content_disposition_header(True, filename)}
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _etag_matches(if_none_match, etag):
        not_modified = HttpResponse(status=304)
        for key, value in headers.items():
            not_modified[key] = value
        return not_modified

    accel = _accel_redirect(path)
    if accel is not None:
        # nginx answers Range and If-Range itself from the file; the checks above stay the app's.
        handed = HttpResponse(content_type=content_type)
        for key, value in headers.items():
            handed[key] = value
        handed["X-Accel-Redirect"] = accel
        return handed

    status, start, length = 200, 0, size
    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    # If-Range with another ETag (or a date: we only validate by ETag) means the client's copy is stale: send it all.
    if range_header and (if_range is None or if_range.strip() == etag):
        try:
            wanted = range_parse(range_header, size)
        except RangeNotSatisfiable:
            unsatisfiable = HttpResponse(
                status=416,
                content_type="application/json",
                content=json.dumps(error_body(code="range_not_satisfiable", message=f"The file has {size} bytes.")),
            )
            unsatisfiable["Content-Range"] = f"bytes */{size}"
            unsatisfiable["Accept-Ranges"] = "bytes"
            return unsatisfiable
        if wanted is not None:
            first, last = wanted
            status, start, length = 206, first, last - first + 1
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"

    response: HttpResponse | StreamingHttpResponse
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=content_type)
    else:
        response = StreamingHttpResponse(_stream(path, start, length), status=status, content_type=content_type)
    for key, value in headers.items():
        response[key] = value
    response["Content-Length"] = str(length)
    return response
