"""The doors: Telegram and the local chat. Each builds its `Notifier` and the app
(`bot.app.build`), then only translates between its transport and the companion: an update or a
typed line becomes an act, and the reply becomes messages. A door never decides anything.
"""
