"""The bundled default configuration, built without validation, is the validated one."""

import subprocess
import sys
import tomllib

from ledger_tools.config import (
    Config,
    bundled_default,
    config_digest,
    default_config_text,
    load_config,
    validate_data,
)


def test_bundled_default_equals_the_validated_default():
    validated = validate_data(Config, tomllib.loads(default_config_text()))
    loaded = load_config()
    assert loaded == validated == bundled_default()
    assert config_digest(loaded) == config_digest(validated)


def test_the_bundled_default_keeps_its_fingerprint():
    """The digest computed before the models became dataclasses: the manifest cache and every ledger
    made with the default depend on it."""
    assert config_digest(load_config()) == "9c9104027e17df1d"


def test_the_bundled_default_needs_no_pydantic():
    code = (
        "import sys; from ledger_tools.config import load_config, config_digest;"
        "config_digest(load_config()); print('pydantic' in sys.modules, 'tomllib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
