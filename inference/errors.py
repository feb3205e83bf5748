"""Errors the CLIs turn into one clear line on stderr and exit code 2."""


class UsageError(Exception):
    """A problem with the command line, the model file or an input file as a whole."""


class ModelContractError(UsageError):
    """An ONNX file that does not carry what inference needs in its metadata."""
