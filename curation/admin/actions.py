"""Django admin for action schemas (actions with their typed parameters), action mappings and sample actions.

The app's schema page saves edits as a new version; the admin edits rows in place, for fixes by an admin.
"""
from django.contrib import admin

from curation.models import ActionDefinition, ActionMapping, ActionParameter, ActionSchema, SampleAction


class ActionDefinitionInline(admin.TabularInline):
    model = ActionDefinition
    extra = 0
    fields = ["position", "name", "description"]
    show_change_link = True


class ActionParameterInline(admin.TabularInline):
    model = ActionParameter
    extra = 0
    fields = ["position", "name", "type", "required", "default", "minimum", "maximum", "choices", "description"]


@admin.register(ActionSchema)
class ActionSchemaAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "status", "note", "created_by", "created_at"]
    list_filter = ["status", "name"]
    inlines = [ActionDefinitionInline]


@admin.register(ActionDefinition)
class ActionDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "schema", "position"]
    list_filter = ["schema"]
    inlines = [ActionParameterInline]


@admin.register(ActionMapping)
class ActionMappingAdmin(admin.ModelAdmin):
    list_display = ["source", "version", "status", "engine", "decided_by", "decided_at", "applied_at"]
    list_filter = ["status"]
    raw_id_fields = ["source"]


@admin.register(SampleAction)
class SampleActionAdmin(admin.ModelAdmin):
    list_display = ["sample", "turn", "position", "name", "state", "reason"]
    list_filter = ["state", "name"]
    raw_id_fields = ["sample", "mapping"]
