"""The shared conversation engine: normalised events in, normalised replies out."""
