"""Django app configuration for boards: review boards, owners, authors, separation of duties."""

from django.apps import AppConfig


class BoardsConfig(AppConfig):
    name = "boards"
    verbose_name = "Boards"
