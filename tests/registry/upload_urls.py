"""The project's URLs plus the local artifact upload endpoint, for tests of that endpoint."""

from config.urls import urlpatterns as project_urlpatterns
from registry.upload import urlpatterns as upload_urlpatterns

urlpatterns = [*project_urlpatterns, *upload_urlpatterns]
