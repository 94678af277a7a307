"""HTTP: the FastAPI app, one router per resource, error mapping. No domain logic here."""
