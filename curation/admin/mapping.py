from django.contrib import admin

from curation.models import Mapping


@admin.register(Mapping)
class MappingAdmin(admin.ModelAdmin):
    list_display = ["source", "version", "status", "engine", "confidence", "decided_by", "decided_at"]
    list_filter = ["status", "engine"]
    raw_id_fields = ["source", "subset"]
