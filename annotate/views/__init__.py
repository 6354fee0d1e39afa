"""Page views, one module per area; each exports `urlpatterns` collected by annotate/urls.py."""
