"""Stage 3, the model call: instructor-wrapped clients, the HTTP transport (retries, metering,
record/replay), the request gate, the re-ask policy, and the mapping of failures to named errors."""
