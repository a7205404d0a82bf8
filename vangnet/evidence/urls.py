from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("<int:case_id>/captures/", views.request_capture, name="request_capture"),
]
