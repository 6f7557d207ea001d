"""The scheduling domain: entities and rules. No I/O here."""
