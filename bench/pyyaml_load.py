#!/usr/bin/env python3
"""Reference: PyYAML's C-accelerated safe loader building Python objects from the file."""
import sys

import yaml

with open(sys.argv[1], "rb") as f:
    data = yaml.load(f, Loader=yaml.CSafeLoader)
print(len(data.get("stages", [])), "stages")
