"""What agents hold: API tokens (`tokens`) and the seat-to-seat message bus (`bus`)."""
