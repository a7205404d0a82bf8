from django.contrib import admin

from .models import ApiToken, Membership, Organisation


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with ``vangnet create_api_token``; here they can only be revoked."""

    list_display = ["name", "organisation", "created_at", "revoked_at"]
    readonly_fields = ["organisation", "name", "token_hash", "created_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
