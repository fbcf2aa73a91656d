"""The model side of Arbiter: detector schemas, synthetic data, feature transforms,
training recipes, the bundle format, runtimes and certification.

This package imports no other project package, so data scientists can train and
certify a bundle without the platform installed around it.
"""
