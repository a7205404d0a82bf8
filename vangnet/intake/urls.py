from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.ReportWizard.as_view(), name="report"),
    path("report/evidence/", views.report_evidence, name="report_evidence"),
    path("report/received/", views.receipt, name="receipt"),
    path("followup/", views.followup_login, name="followup_login"),
    path("followup/report/", views.followup, name="followup"),
    path("followup/evidence/", views.followup_evidence, name="followup_evidence"),
    path("followup/withdraw/", views.withdraw, name="withdraw"),
    path("followup/sharing/revoke/", views.revoke_sharing, name="revoke_sharing"),
    path("followup/withdrawn/", views.withdrawn, name="withdrawn"),
    path("followup/logout/", views.followup_logout, name="followup_logout"),
    path("help/", views.help_directory, name="help"),
    path("forms/<slug:slug>/", views.form_info, name="form_info"),
    path("info/<slug:slug>/", views.info_page, name="info_page"),
]
