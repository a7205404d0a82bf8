from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/assign/", views.assign, name="assign"),
    path("<int:case_id>/status/", views.change_status, name="status"),
    path("<int:case_id>/note/", views.add_note, name="note"),
    path("<int:case_id>/message/", views.send_message, name="message"),
    path("<int:case_id>/refer/", views.refer, name="refer"),
    path("<int:case_id>/merge/", views.merge, name="merge"),
    path("<int:case_id>/split/", views.split, name="split"),
    path("<int:case_id>/legal-hold/", views.set_legal_hold, name="legal_hold"),
    path("<int:case_id>/legal-hold/lift/", views.lift_legal_hold, name="lift_legal_hold"),
    path("<int:case_id>/ncii-consent/", views.ncii_consent, name="ncii_consent"),
    path("<int:case_id>/evidence/", views.add_evidence, name="add_evidence"),
    path("<int:case_id>/evidence/export/", views.export_evidence, name="export_evidence"),
    path("<int:case_id>/evidence/<int:item_id>/view/", views.view_evidence, name="view_evidence"),
    path("<int:case_id>/evidence/<int:item_id>/download/", views.download_evidence, name="download_evidence"),
]
