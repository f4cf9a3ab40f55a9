"""Direct messages: conversations, messages, receipts, reactions, message requests."""
