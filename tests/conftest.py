pytest_plugins = ["support.media"]
