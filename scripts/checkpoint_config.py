#!/usr/bin/python3
"""Reads the config a checkpoint carries (safetensors header, __metadata__.config, YAML).

  scripts/checkpoint_config.py CKPT model.d_model   prints that field's value
  scripts/checkpoint_config.py CKPT --set-args      prints the asr-train --set arguments of
                                                    its attention (type and attention_kwargs)
"""
import json
import struct
import sys

import yaml


def config_of(path):
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    return yaml.safe_load(header["__metadata__"]["config"])


def field(config, dotted):
    value = config
    for key in dotted.split("."):
        value = value[key]
    return value


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    config = config_of(sys.argv[1])
    if sys.argv[2] != "--set-args":
        print(field(config, sys.argv[2]))
        return
    model = config["model"]
    args = [f"--set model.attention_type={model['attention_type']}"]
    for key, value in (model.get("attention_kwargs") or {}).items():
        if isinstance(value, list):
            value = "[" + ",".join(str(v) for v in value) + "]"
        args.append(f"--set model.attention_kwargs.{key}={value}")
    print(" ".join(args))


if __name__ == "__main__":
    main()
