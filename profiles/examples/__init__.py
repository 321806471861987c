"""Example programs that ship with soakwatch, so built-in profiles and ``soakwatch init`` scaffolds run anywhere.

Each is a standard-library program run as a node, found from the package
(``{python} -m soakwatch.profiles.examples.node``), never from the repository:

    node          a toy consensus node writing epoch-<n>.json reports (the soak profiles, ``init topology``)
    chat_server   an OpenAI-compatible chat service with /health/live and /metrics (``init http``, ``init openai``)
"""
