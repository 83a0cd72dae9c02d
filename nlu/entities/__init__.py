"""Rule-based entity extractors shared by the embedded and Rasa backends."""
