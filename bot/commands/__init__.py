"""One module per `newsbot` sub-command."""
