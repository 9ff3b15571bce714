"""Picture analysis: motion, detectors, tracking, rules and camera-fault checks (numpy/OpenCV, no I/O)."""
