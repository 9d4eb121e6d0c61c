"""Gunicorn settings read from the working directory: its logs keep link secrets out (see survey_app.logs)."""
logger_class = "survey_app.logs.RedactingGunicornLogger"
accesslog = "-"
