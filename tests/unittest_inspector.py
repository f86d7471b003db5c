#!/usr/bin/python3
"""Lists the test methods of a unittest module as Class.method, one per line,
so that meson can run each as its own test (the fwupd/power-profiles-daemon
idiom). It reads the file with ast instead of importing it: at configure time
the uninstalled typelib the tests import does not exist yet."""

import ast
import sys


def list_tests(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def base_names(cls):
        return [b.id if isinstance(b, ast.Name) else getattr(b, 'attr', '') for b in cls.bases]

    def is_test_case(cls, seen=()):
        for base in base_names(cls):
            if base.endswith('TestCase'):
                return True
            if base in classes and base not in seen and is_test_case(classes[base], seen + (base,)):
                return True
        return False

    def test_methods(cls):
        names = []
        for base in base_names(cls):
            if base in classes:
                names += test_methods(classes[base])
        names += [n.name for n in cls.body
                  if isinstance(n, ast.FunctionDef) and n.name.startswith('test')]
        return names

    tests = []
    for name, cls in classes.items():
        if not is_test_case(cls):
            continue
        for method in sorted(set(test_methods(cls))):
            tests.append(f'{name}.{method}')
    return tests


if __name__ == '__main__':
    for test in list_tests(sys.argv[1]):
        print(test)
