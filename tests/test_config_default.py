"""The bundled default configuration, loaded without validation, is the validated one."""

import tomllib

from ledger_tools.config import Config, config_digest, default_config_text, load_config


def test_bundled_default_equals_the_validated_default():
    validated = Config.model_validate(tomllib.loads(default_config_text()))
    loaded = load_config()
    assert loaded == validated
    assert config_digest(loaded) == config_digest(validated)
