"""Pure Block Kit builders (no I/O): the approval message and its modals, the hearing form,
App Home. Text inside them comes from the Jinja templates in `templates/`."""
