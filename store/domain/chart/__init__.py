"""The chart: reading it (`reading`), the chart file (`chartfile`) and importing or syncing it,
who-owns (`search`, `question`), the operating rules (`rules`), and what is built once per
chart version (`cache`, `directory`)."""
