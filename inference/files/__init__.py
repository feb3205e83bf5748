"""Finding input files: the streaming folder walk, the text of a path, resume keys."""
