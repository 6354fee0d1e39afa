"""API: sources (not yet built)."""
from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
