"""The trainer's own errors: library code raises these, the train-* commands show them."""


class TrainerError(Exception):
    """A problem said in one line (e.g. missing ImageNet weights); exit code 1."""

    exit_code = 1


class TrainerUsageError(TrainerError):
    """Training data, options or a run folder that cannot be used; exit code 2."""

    exit_code = 2
