"""Media adapters: sources, the recorder, segment files, playback and export muxing, simulated cameras."""
