"""GUI and agent actions: the parser of public action syntaxes, schemas of typed actions, the converter to them."""
