from django.contrib import admin

from curation.models import Job, JobError


class JobErrorInline(admin.TabularInline):
    model = JobError
    extra = 0
    can_delete = False
    readonly_fields = ["row_number", "location", "message"]
    max_num = 0


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "state", "done", "total", "error_count", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "state"]
    readonly_fields = [f.name for f in Job._meta.concrete_fields]
    inlines = [JobErrorInline]

    def has_add_permission(self, request):  # jobs are created by services only
        return False
