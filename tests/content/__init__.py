"""Tests of coaching.content: loader, Markdown, quiz, reload, search."""
