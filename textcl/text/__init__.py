"""Tweet text: the tokenizer, duplicate and retweet collapsing, and the one retweet
prefix stripper."""
