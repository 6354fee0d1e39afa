from django.contrib import admin

from curation.models import Export, ExportFile


class ExportFileInline(admin.TabularInline):
    model = ExportFile
    extra = 0
    can_delete = False
    readonly_fields = ["name", "storage_name", "size", "sha256"]


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "format", "state", "sample_count", "created_by", "created_at", "expires_at"]
    list_filter = ["format", "state"]
    readonly_fields = ["manifest", "job", "sample_count", "finished_at"]
    inlines = [ExportFileInline]
