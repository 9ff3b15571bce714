"""Configuration: pydantic models of ``vigil.yaml`` and its loader."""

from vigil.config.loader import load_config, parse_config
from vigil.config.models import CameraConfig, Config, StreamConfig

__all__ = ["CameraConfig", "Config", "StreamConfig", "load_config", "parse_config"]
