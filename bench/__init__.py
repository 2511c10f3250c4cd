"""`make bench`: load and scale figures of coaching (python -m bench). See docs/performance.md."""
