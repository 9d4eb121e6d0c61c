"""WTForms forms, a module per area; every label and message goes through Babel."""
