"""REST resources of the registry: models, versions, aliases, datasets and their history."""
