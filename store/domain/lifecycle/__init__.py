"""Seat lifecycle: hire a seat, assign or vacate its holder, retire it after a hearing."""
