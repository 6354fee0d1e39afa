from django.contrib import admin

from curation.models import Benchmark, BenchmarkImage, Sample, SampleImage, Subset


@admin.register(Subset)
class SubsetAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "status", "sample_count", "approved_by", "approved_at"]
    list_filter = ["status", "category"]
    search_fields = ["name"]
    readonly_fields = ["sample_count", "approved_by", "approved_at"]


class SampleImageInline(admin.TabularInline):
    model = SampleImage
    raw_id_fields = ["image"]
    extra = 0


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    list_display = ["id", "subset", "source", "row_number", "status", "image_count"]
    list_filter = ["status", "subset"]
    raw_id_fields = ["subset", "source", "mapping"]
    inlines = [SampleImageInline]
    show_full_result_count = False


class BenchmarkImageInline(admin.TabularInline):
    model = BenchmarkImage
    raw_id_fields = ["image"]
    extra = 0


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):
    list_display = ["name", "split", "image_count", "license"]
    search_fields = ["name"]
    inlines = [BenchmarkImageInline]
