"""The Discord edge: message formatting, delivery, pacing, scheduling, cogs and the Bot wiring.

Only the modules that talk to Discord import discord.py; `formatting` builds plain payloads.
"""
