from django.contrib import admin

from .models import FormOfViolence


@admin.register(FormOfViolence)
class FormOfViolenceAdmin(admin.ModelAdmin):
    list_display = ["name_nl", "name_en", "slug", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]
    prepopulated_fields = {"slug": ["name_en"]}
    search_fields = ["name_nl", "name_en", "slug"]
