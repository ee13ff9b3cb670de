"""newsbot: ranked, scheduled news digests for Discord servers."""

__version__ = "0.1.0"
