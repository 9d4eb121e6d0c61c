"""The form that uploads an index framework (YAML or Excel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired

from survey_app.core.forms import Form

FRAMEWORK_FILE_TYPES = ("yaml", "yml", "xlsx")


class FrameworkUploadForm(Form):
    file = FileField(
        _l("Framework file (YAML or Excel)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(FRAMEWORK_FILE_TYPES, _l("Only .yaml, .yml or .xlsx files are accepted.")),
        ],
    )
