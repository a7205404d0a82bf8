from django.contrib import admin

from .models import InfoPage


@admin.register(InfoPage)
class InfoPageAdmin(admin.ModelAdmin):
    list_display = ["title_nl", "slug", "is_published", "sort_order"]
    prepopulated_fields = {"slug": ["title_en"]}
