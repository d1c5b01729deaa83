"""The tools, one module for each part of the record they act on; each module's `register` adds its own."""
