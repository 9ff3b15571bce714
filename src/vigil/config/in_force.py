"""The configuration in force: one :class:`Config` that every part reads when it needs it, replaced whole when
an administrator changes the settings (the console, or ``vigil.yaml`` edited by hand), with listeners told of
each replacement (the runtime restarts the recorders and analysers whose cameras changed)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vigil.config.models import Config

log = logging.getLogger(__name__)

# Called after a replacement with (the old configuration, the new one).
ConfigListener = Callable[[Config, Config], None]


class ConfigInForce:
    def __init__(self, config: Config) -> None:
        self._config = config
        self._listeners: list[ConfigListener] = []
        self._lock = threading.Lock()

    @property
    def current(self) -> Config:
        return self._config

    def listen(self, listener: ConfigListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def replace(self, new: Config) -> None:
        """Put ``new`` in force and tell the listeners, in the order they listened. A listener that fails is
        logged; the others are still told (the new configuration is in force either way)."""
        with self._lock:
            old, self._config = self._config, new
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(old, new)
            except Exception:
                log.exception("applying the new configuration failed in %r", listener)
