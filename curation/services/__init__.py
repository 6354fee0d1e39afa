"""Services: every write of the domain, as typed functions with keyword-only arguments."""
