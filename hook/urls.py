from django.urls import path

from hook import views

urlpatterns = [
    path("hook", views.webhook, name="hook"),
    path("plugin-help", views.plugin_help, name="plugin-help"),
]
