"""The chart: reading it (`reading`), the chart file (`chartfile/`), importing it
(`file_import`) and syncing the store with it (`sync/`), OTP's OOS format (`oos/`), who-owns
(`search`, `question`), the operating rules (`rules`), and what is built once per chart
version (`cache`, `directory`)."""
