"""The form: the field catalogue, the form and list templates, and sample records."""
