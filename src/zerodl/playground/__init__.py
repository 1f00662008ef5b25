"""The playground: a local web page where a learner builds a network, trains it with zerodl
and watches it learn (``zerodl playground``).

``session`` holds the training (NumPy only); ``server`` the Starlette app (the optional
``playground`` extra: ``pip install "zerodl[playground]"``, or ``pip install -e
".[playground]"`` in a checkout); ``static`` the page, plain HTML, CSS and JavaScript that
work offline.
"""
