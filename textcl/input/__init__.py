"""Where tweets come from: files (JSONL, CSV, plain text, CrisisLex), gzip, stdin,
followed files, the X API and brokers (Redis Streams, Kafka); the one list of input
formats (:data:`textcl.input.readers.FORMATS`), rejects with their reasons, time parsing
and the external time sort."""
