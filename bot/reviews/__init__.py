"""Draft reviews: the use case (service.py), how a review looks in chat (view.py), long
pastes joined into one draft (pastes.py), and the command line (cli.py)."""
