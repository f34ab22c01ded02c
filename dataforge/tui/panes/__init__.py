"""The review app's tabs, one pane each: Sources, Review, Tokens, Stats, Export. A pane owns its
widgets and its workers; what one pane needs from another goes through the app as a message."""
