from django.contrib import admin

from .models import ReferralOrganisation


@admin.register(ReferralOrganisation)
class ReferralOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name_nl", "phone", "accepts_warm_handover", "is_active"]
    list_filter = ["accepts_warm_handover", "is_active", "handles_minors"]
    filter_horizontal = ["forms"]
    search_fields = ["name_nl", "name_en"]
