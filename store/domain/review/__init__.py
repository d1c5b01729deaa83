"""The weekly operating review: issues (identify, discuss, solve), to-dos with an owner seat
and a due date, quarterly rocks per seat, and the review meeting that walks through them."""
