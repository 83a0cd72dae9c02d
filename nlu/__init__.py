"""Intent and entity understanding for owners' Chinese messages (embedded or Rasa backend)."""

from nlu.catalog import SERVICES_BY_LINE
from nlu.intents import INTENTS
from nlu.parser import Parser, create_parser
from nlu.result import Entity, IntentScore, NluResult

__all__ = [
    "INTENTS",
    "SERVICES_BY_LINE",
    "Entity",
    "IntentScore",
    "NluResult",
    "Parser",
    "create_parser",
]
