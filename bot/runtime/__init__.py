"""What runs: the HTTP app of `otp serve` (`web`), the outbox worker that performs queued work
(`worker`, `delivery`), the scheduler of the operating rhythm (`scheduler`, `rhythm_posts`),
and the process tuning they share (`heap`)."""
