"""The roster service: the Civil Affairs Bureau's list of eligible persons."""
