error("module fails to load")
