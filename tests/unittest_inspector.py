#!/usr/bin/python3
"""Lists the test methods of a unittest module as Class.method, one per line,
so that meson can run each as its own test (the fwupd/power-profiles-daemon
idiom)."""

import importlib.util
import inspect
import os
import sys
import unittest


def list_tests(module):
    names = []
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if not issubclass(cls, unittest.TestCase) or cls.__module__ != module.__name__:
            continue
        for name in unittest.TestLoader().getTestCaseNames(cls):
            names.append(f'{cls.__name__}.{name}')
    return names


if __name__ == '__main__':
    path = sys.argv[1]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for test in list_tests(module):
        print(test)
