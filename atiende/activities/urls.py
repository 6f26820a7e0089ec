from django.urls import path

from atiende.activities import views

app_name = "activities"

urlpatterns = [
    path("tareas/", views.my_tasks, name="my_tasks"),
    path("tareas/<int:pk>/estado/", views.task_status, name="task_status"),
]
