"""The chart: reading it (`reading`), the chart file (`chartfile/`), importing it
(`file_import`) and syncing the store with it (`sync/`), OTP's OOS format (`oos/`), who-owns
(`search`, `question`), the operating rules (`rules`), what is built once per chart
version (`cache`, `directory`), and what a picture of the chart shows (`picture`)."""
