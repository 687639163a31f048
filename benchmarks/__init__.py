"""`make bench`: speed, memory and time-to-quality of digitgan's presets; results in results.json + RESULTS.md."""
