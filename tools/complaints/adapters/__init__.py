"""The outside world, behind one module each: strict YAML, the JSON Schemas, the configuration
files built into typed objects, the repository on disk, git, the result cache, atomic writes,
output folders, locks, CSV, age and GitHub. Adapters know the domain's types (core) but decide
nothing about complaints."""
