from django.contrib import admin

from curation.models import Image, Source, SourceRow


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "detected_format", "layout", "row_count", "rejected_count", "license", "created_at"]
    list_filter = ["status", "layout", "detected_format"]
    search_fields = ["name", "origin", "license"]
    readonly_fields = ["status", "detected_format", "layout", "columns", "row_count", "rejected_count", "image_count", "ingested_at", "created_by", "created_at"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["sha256", "width", "height", "format", "bytes", "created_at"]
    list_filter = ["format"]
    search_fields = ["sha256"]
    show_full_result_count = False


@admin.register(SourceRow)
class SourceRowAdmin(admin.ModelAdmin):
    list_display = ["source", "row_number"]
    raw_id_fields = ["source"]
    show_full_result_count = False
