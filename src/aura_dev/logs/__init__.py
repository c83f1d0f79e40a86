"""The log pipeline: records and their levels, the splitter, the store under .aura/logs,
queries and follow, the console renderer and sink."""
