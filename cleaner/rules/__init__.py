"""Rule packs: loading, validating and compiling the TOML files under `rules/`."""

from cleaner.rules.loader import RulePackError, RuleSet, default_rules_dir, load_rules

__all__ = ["RulePackError", "RuleSet", "default_rules_dir", "load_rules"]
