"""The HTTP layer shared by every domain router: errors, pagination, dependencies, middleware."""
