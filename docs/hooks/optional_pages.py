"""MkDocs hook: pages other parts of the project may add (book-kit, convolution, playground)
join the navigation when they exist; the site builds without them."""
from __future__ import annotations

import os

#: file -> (title, the nav section it joins)
OPTIONAL = {"book-kit.md": ("The book's kit", "Guide"),
            "convolution.md": ("Convolution", "Guide"),
            "playground.md": ("Playground", "Guide")}


def on_config(config):
    docs = config["docs_dir"]
    for name, (title, section) in OPTIONAL.items():
        if not os.path.isfile(os.path.join(docs, name)):
            continue
        for entry in config["nav"]:
            if section in entry:
                entry[section].append({title: name})
    return config
