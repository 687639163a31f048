"""One module per section of `make bench`; each has run(context) that adds its results to context.results."""
