"""The review dashboard's pages under ``/staff/moderation/`` (see ``docs/moderation.md``)."""

from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("take-next/", views.take_next, name="take_next"),
    path("tasks/<int:task_id>/", views.task_detail, name="task"),
    path("tasks/<int:task_id>/image/", views.task_image, name="task_image"),
    path("tasks/<int:task_id>/release/", views.release, name="release"),
    path("tasks/<int:task_id>/decide/", views.decide, name="decide"),
    path("tasks/<int:task_id>/appeal/", views.decide_appeal, name="decide_appeal"),
    path("appeals/<int:appeal_id>/file/", views.appeal_file, name="appeal_file"),
    path("statements/export/", views.export_statements, name="export_statements"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert"),
    path("alerts/<int:alert_id>/notified/", views.alert_notified, name="alert_notified"),
    path("alerts/<int:alert_id>/dismiss/", views.alert_dismiss, name="alert_dismiss"),
    path("metrics/", views.metrics, name="metrics"),
    path("policy/", views.policy, name="policy"),
    path("policy/save/", views.policy_save, name="policy_save"),
    path("keys/", views.keys, name="keys"),
    path("keys/create/", views.key_create, name="key_create"),
    path("keys/<int:key_id>/", views.key_detail, name="key"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/add/", views.webhook_add, name="webhook_add"),
    path("webhooks/<int:endpoint_id>/", views.webhook_detail, name="webhook"),
    path("webhooks/<int:endpoint_id>/off/", views.webhook_off, name="webhook_off"),
]
