"""The HTML report of a run's output, one package both classify commands (and
`batch-report`, which rebuilds it from an existing output) call."""
