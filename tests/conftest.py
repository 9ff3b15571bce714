pytest_plugins = ["support.media", "support.browser", "support.seaweed"]
