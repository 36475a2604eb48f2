"""`lifecycle explore`: walk a design's state space, and its counterexamples, in a browser.

- `walk`: paths of choices, and what a state shows (knows only the engine protocol);
- `app`: the Flask pages, rendered with jinja2 templates (`templates/`);
- `serve`: builds the explorer for a design and runs it on localhost.
"""
