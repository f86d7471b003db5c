#!/usr/bin/python3
"""Checks that vssctl(1) and vssctl --help say the same, both read now.

    check-vssctl-page.py VSSCTL PAGE.rst

From the help (`vssctl --help`, `vssctl COMMAND --help` for each command it
lists): the commands, the options of vssctl and of each command, the
placeholders of each command's usage line (PATH, SET-ID, ...) and of its
options' arguments (--description=TEXT), the exit codes and the VSS_*
variables. From the page (its reStructuredText source, parsed
with docutils): the terms of the COMMANDS section and the option lists inside
each, the option list of OPTIONS, the uppercase words of each command's term,
and the terms of EXIT STATUS and ENVIRONMENT. Each must equal the other: a
command, option or variable that vssctl gains fails this test until the page
describes it, and the page cannot describe one that vssctl lacks.

The options every command has (GLib's -h, --help) are described once, in
OPTIONS.
"""

import re
import subprocess
import sys

import docutils.core
import docutils.nodes
import docutils.utils


def run_help(vssctl, *args):
    result = subprocess.run([vssctl, *args, '--help'], capture_output=True, text=True,
                            env={'LC_ALL': 'C.UTF-8', 'PATH': '/usr/bin:/bin'})
    if result.returncode != 0:
        sys.exit(f'{vssctl} {" ".join(args)} --help failed ({result.returncode}):\n'
                 f'{result.stderr}')
    return result.stdout


def option_names(text):
    """-h, --help, --state-dir=DIR, ... → {'-h', '--help', '--state-dir'}"""
    return set(re.findall(r'(?<![\w-])(--?[A-Za-z0-9][\w-]*)', text))


class Help:
    """What the help output of vssctl, or of one command, says."""

    def __init__(self, text):
        self.text = text
        self.usage = ''
        self.commands = []
        self.options = set()
        self.option_arguments = set()
        self.exit_codes = set()
        section = None
        for line in text.splitlines():
            if not line.strip():
                section = None if section != 'usage' else section
                continue
            if not line.startswith(' '):
                section = line.rstrip(':').lower() if line.endswith(':') else None
                continue
            if section == 'usage':
                self.usage = line.strip()
                section = None
            elif section == 'commands':
                self.commands.append(line.split()[0])
            elif section is not None and section.endswith('options'):
                match = re.match(r'\s+(-\S.*?)(?:\s{2,}|$)', line)
                if match:
                    self.options |= option_names(match.group(1))
                    self.option_arguments |= set(re.findall(r'=([A-Z][A-Z-]*[A-Z])\b',
                                                            match.group(1)))
            elif section == 'exit status':
                match = re.match(r'\s+(\d+)\s', line)
                if match:
                    self.exit_codes.add(match.group(1))
        self.variables = set(re.findall(r'\bVSS_[A-Z_]*[A-Z]\b', text))

    def placeholders(self):
        """The uppercase words of the usage line, except OPTION, and the arguments
        of the options (--description=TEXT: TEXT)."""
        return ((set(re.findall(r'\b[A-Z][A-Z-]*[A-Z]\b', self.usage)) - {'OPTION'})
                | self.option_arguments)


class Page:
    """What the reStructuredText source of vssctl(1) says."""

    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            source = f.read()
        doctree = docutils.core.publish_doctree(
            source, source_path=path,
            settings_overrides={'report_level': docutils.utils.Reporter.WARNING_LEVEL,
                                'halt_level': docutils.utils.Reporter.WARNING_LEVEL})
        self.sections = {}
        for section in doctree.findall(docutils.nodes.section):
            title = section.next_node(docutils.nodes.title).astext()
            self.sections[title] = section

    def section(self, title):
        if title not in self.sections:
            sys.exit(f'the page has no section {title}')
        return self.sections[title]

    @staticmethod
    def terms(node):
        """The definition list items directly in node: [(term text, definition)]."""
        items = []
        for dl in node.findall(docutils.nodes.definition_list):
            if dl.parent is not node:
                continue
            for item in dl.children:
                term = item.next_node(docutils.nodes.term).astext()
                items.append((term, item.next_node(docutils.nodes.definition)))
        return items

    @staticmethod
    def options(node):
        return {o.astext().split()[0].split('=')[0]
                for o in node.findall(docutils.nodes.option_string)}

    def commands(self):
        return {term.split()[0]: (term, definition)
                for term, definition in self.terms(self.section('COMMANDS'))}


def compare(what, in_help, in_page, failures):
    missing = sorted(set(in_help) - set(in_page))
    extra = sorted(set(in_page) - set(in_help))
    if missing:
        failures.append(f'{what}: in the help, not in the page: {", ".join(missing)}')
    if extra:
        failures.append(f'{what}: in the page, not in the help: {", ".join(extra)}')


def main():
    vssctl, page_path = sys.argv[1:3]
    failures = []
    page = Page(page_path)

    main_help = Help(run_help(vssctl))
    if not main_help.commands:
        sys.exit(f'no commands found in the output of vssctl --help:\n{main_help.text}')
    command_help = {name: Help(run_help(vssctl, name)) for name in main_help.commands}

    page_commands = page.commands()
    compare('commands', main_help.commands, page_commands, failures)

    # -h, --help: in every command's help, described once in OPTIONS
    everywhere = set.intersection(*(h.options for h in command_help.values()))
    compare('options of vssctl (OPTIONS)', main_help.options | everywhere,
            page.options(page.section('OPTIONS')), failures)

    variables = set(main_help.variables)
    exit_codes = set(main_help.exit_codes)
    for name, help_ in command_help.items():
        variables |= help_.variables
        exit_codes |= help_.exit_codes
        if name not in page_commands:
            continue
        term, definition = page_commands[name]
        compare(f'options of {name}', help_.options - everywhere,
                page.options(definition), failures)
        compare(f'placeholders of {name} (usage line, option arguments and COMMANDS term)',
                help_.placeholders(),
                set(re.findall(r'\b[A-Z][A-Z-]*[A-Z]\b', term)), failures)

    compare('exit codes (EXIT STATUS)', exit_codes,
            {term for term, _ in page.terms(page.section('EXIT STATUS'))}, failures)
    compare('variables (ENVIRONMENT)', variables,
            {term for term, _ in page.terms(page.section('ENVIRONMENT'))
             if term.startswith('VSS_')}, failures)

    if failures:
        print(f'{page_path} and vssctl --help disagree:', file=sys.stderr)
        for failure in failures:
            print(f'  {failure}', file=sys.stderr)
        sys.exit(1)
    print(f'{len(page_commands)} commands, their options, placeholders, exit codes and '
          f'variables agree')


if __name__ == '__main__':
    main()
