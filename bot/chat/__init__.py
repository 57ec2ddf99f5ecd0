"""The Discord wing: the client, its runner, guards and cogs (exts/). Everything here may
import discord.py; nothing outside bot/chat/ does."""
