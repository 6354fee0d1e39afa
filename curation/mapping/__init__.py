"""Schema mapping: the declarative spec, the pure row -> sample function, and the suggesters that propose specs."""
