from django.urls import path

from . import views

app_name = "notices"

urlpatterns = [
    path("<int:case_id>/notices/draft/", views.draft, name="draft"),
    path("<int:case_id>/notices/replies/", views.upload_reply, name="upload_reply"),
    path("<int:case_id>/notices/reuploads/<int:alert_id>/", views.reupload_notice, name="reupload_notice"),
    path("<int:case_id>/notices/<int:notice_id>/edit/", views.edit, name="edit"),
    path("<int:case_id>/notices/<int:notice_id>/send/", views.send, name="send"),
    path("<int:case_id>/notices/<int:notice_id>/sent-by-hand/", views.sent_by_hand, name="sent_by_hand"),
    path("<int:case_id>/notices/<int:notice_id>/resolve/", views.resolve, name="resolve"),
    path("<int:case_id>/notices/<int:notice_id>/cancel/", views.cancel, name="cancel"),
    path("<int:case_id>/notices/<int:notice_id>/outcome/", views.outcome, name="outcome"),
    path("<int:case_id>/notices/<int:notice_id>/pdf/", views.pdf, name="pdf"),
    path("<int:case_id>/notices/<int:notice_id>/escalate/", views.escalate, name="escalate"),
]
