"""Notification delivery: the outbox's workers and the channels they send through (webhook, MQTT, e-mail).

An adapter package: it talks to the outbox through ``vigil.ports.OutboxStore`` and never imports a sibling
adapter. ``docs/design/notifications.md`` tells how it works."""
