"""API: a finished export as one tar archive that keeps its layout (curation/exporters/archive.py)."""
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from curation.api.errors import ApiError
from curation.api.exports import CanExport, JsonErrorsOnly
from curation.exporters.archive import archive_folder_name, archive_size, archive_stream
from curation.models import Export
from curation.services.exports import export_file_path


class ExportArchive(APIView):
    permission_classes = [IsAuthenticated, CanExport]
    content_negotiation_class = JsonErrorsOnly

    @extend_schema(
        tags=["exports"],
        summary="Download a finished export as one tar archive: one folder holding every file in its layout",
        responses={
            200: OpenApiResponse(OpenApiTypes.BINARY, description="application/x-tar, streamed."),
            409: OpenApiResponse(description="The export is not finished."),
            410: OpenApiResponse(description="The export has expired, or a file is missing from storage."),
        },
    )
    def get(self, request: Request, export_id: int) -> StreamingHttpResponse:
        export = get_object_or_404(Export, pk=export_id)
        if export.state == Export.State.EXPIRED:
            raise ApiError(code="export_expired", message="This export has expired and its files were deleted.", status_code=410)
        if export.state != Export.State.SUCCEEDED:
            raise ApiError(code="export_not_ready", message=f"This export is {export.state}.", status_code=409)
        files = list(export.files.order_by("name"))
        paths = [(f, export_file_path(export_file=f)) for f in files]
        missing = [f.name for f, p in paths if not p.is_file()]
        if missing:
            raise ApiError(code="file_missing", message=f"{len(missing)} file(s) are missing from storage, e.g. {missing[0]}.",
                           status_code=410)
        response = StreamingHttpResponse(archive_stream(export, paths), content_type="application/x-tar")
        response["Content-Length"] = str(archive_size(export, files))
        response["Content-Disposition"] = content_disposition_header(True, f"{archive_folder_name(export)}.tar")
        return response


urlpatterns: list[URLPattern] = [
    path("exports/<int:export_id>/archive/", ExportArchive.as_view(), name="api-export-archive"),
]
