"""ledger-tools: the 働きかけ記録制度's 対応記録簿 template, validator, ledger and publication."""

__version__ = "0.1.0"
