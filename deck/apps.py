from django.apps import AppConfig


class DeckConfig(AppConfig):
    name = "deck"
