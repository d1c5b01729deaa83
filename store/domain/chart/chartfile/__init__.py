"""The chart file: its schema, its YAML, and validating it with every problem located.

The sections (`schema`, `metric_spec`, `rule_spec`, `fields`), the text (`yaml_text`), the checks
(`validation`, `cross_checks`) and their report (`errors`). Nothing here touches the database.
"""
