import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../agent/cmdline';

describe('parseCommandLine', () => {
  const ok: [string, string, string[]][] = [
    ['single program', '/bin/true', ['/bin/true']],
    ['whitespace separated', '  echo   a\tb\nc  ', ['echo', 'a', 'b', 'c']],
    ['bash -c keeps the shell text whole', '/bin/bash -c "echo $HOME > out.txt"', ['/bin/bash', '-c', 'echo $HOME > out.txt']],
    ['single quotes are literal', `/bin/sh -c 'echo "$X" \\n'`, ['/bin/sh', '-c', 'echo "$X" \\n']],
    ['quotes join with adjacent text', `a"b c"'d e'f`, ['ab cd ef']],
    ['empty quotes make an empty argument', `prog "" '' x`, ['prog', '', '', 'x']],
    ['backslash escapes in double quotes', `p "a\\"b" "c\\\\d" "e\\$f" "g\\\`h"`, ['p', 'a"b', 'c\\d', 'e$f', 'g`h']],
    ['other backslashes in double quotes stay', `p "a\\nb"`, ['p', 'a\\nb']],
    ['backslash outside quotes escapes', `p a\\ b \\"c\\" \\'d`, ['p', 'a b', '"c"', "'d"]],
    ['backslash-newline continues the line', 'p a\\\nb \\\n c', ['p', 'ab', 'c']],
    ['trailing backslash stays literal', 'p a\\', ['p', 'a\\']],
    ['no globbing or redirection', 'ls *.txt > out 2>&1 | wc; x && y', ['ls', '*.txt', '>', 'out', '2>&1', '|', 'wc;', 'x', '&&', 'y']],
    ['no variable expansion', 'echo $HOME ${PATH} %TEMP%', ['echo', '$HOME', '${PATH}', '%TEMP%']],
    ['python sample command', `/bin/bash -c 'set -e; set -o pipefail; python $AZ_BATCH_NODE_SHARED_DIR/t.py --filepath a.txt; wait'`, [
      '/bin/bash', '-c', 'set -e; set -o pipefail; python $AZ_BATCH_NODE_SHARED_DIR/t.py --filepath a.txt; wait',
    ]],
    ['unicode', 'echo héllo "wörld ✓"', ['echo', 'héllo', 'wörld ✓']],
  ];
  it.each(ok)('%s', (_name, input, argv) => {
    expect(parseCommandLine(input)).toEqual({ ok: true, argv });
  });

  const bad: [string, string, RegExp][] = [
    ['empty', '', /empty/],
    ['only whitespace', '  \t\n ', /empty/],
    ['unterminated double quote', 'echo "abc', /double quote/],
    ['unterminated single quote', "echo 'abc", /single quote/],
    ['escaped closing quote leaves it open', 'echo "abc\\"', /double quote/],
    ['empty program name', '"" arg', /program name is empty/],
  ];
  it.each(bad)('rejects %s', (_name, input, message) => {
    const r = parseCommandLine(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});
