from django.urls import path

from atiende.connectors.webchat import views

app_name = "webchat"

K = "widget/<str:public_key>/"

urlpatterns = [
    path("widget/demo/", views.demo, name="demo"),
    path(K + "widget.js", views.widget_js, name="widget_js"),
    path(K + "config", views.config, name="config"),
    path(K + "session", views.session, name="session"),
    path(K + "messages", views.messages, name="messages"),
    path(K + "attachments", views.attachments, name="attachments"),
    path(K + "files/<int:attachment_id>", views.attachment_file, name="file"),
]
