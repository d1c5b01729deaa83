"""What agents hold: API tokens (`tokens`), the seat-to-seat message bus (`bus`) and seats' inboxes (`inboxes`)."""
