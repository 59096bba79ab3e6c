"""One module per assignment, each defining ``ASSIGNMENT``."""
