/**
 * Splits an Azure Batch command line into argv WITHOUT a shell, as the Batch node agent does on
 * Linux: whitespace separates words; single quotes group literally; double quotes group with
 * backslash escapes for `\"`, `\\`, `\$` and `` \` `` only (POSIX); outside quotes a backslash
 * escapes the next character and backslash-newline is removed. Quotes are removed. There is no
 * variable expansion, globbing, redirection or command separation: `/bin/bash -c "echo $HOME > x"`
 * becomes ['/bin/bash', '-c', 'echo $HOME > x'], so programs that want a shell must ask for one.
 */

export type ParsedCommandLine = { ok: true; argv: [string, ...string[]] } | { ok: false; message: string };

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\v', '\f']);
const DQ_ESCAPABLE = new Set(['"', '\\', '$', '`']);

export function parseCommandLine(commandLine: string): ParsedCommandLine {
  const argv: string[] = [];
  let word = '';
  let inWord = false; // true once the current word has begun (even if it is "" so far)
  let i = 0;
  const n = commandLine.length;
  while (i < n) {
    const ch = commandLine[i] as string;
    if (WHITESPACE.has(ch)) {
      if (inWord) {
        argv.push(word);
        word = '';
        inWord = false;
      }
      i++;
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const end = commandLine.indexOf("'", i + 1);
      if (end < 0) return { ok: false, message: `Unterminated single quote at position ${i}` };
      word += commandLine.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = commandLine[i] as string;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < n) {
          const next = commandLine[i + 1] as string;
          if (DQ_ESCAPABLE.has(next)) {
            word += next;
            i += 2;
            continue;
          }
          if (next === '\n') {
            i += 2;
            continue;
          }
        }
        word += c;
        i++;
      }
      if (!closed) return { ok: false, message: 'Unterminated double quote' };
    } else if (ch === '\\') {
      if (i + 1 >= n) {
        word += '\\'; // a trailing lone backslash stays literal
        i++;
      } else if (commandLine[i + 1] === '\n') {
        i += 2; // line continuation
        if (word === '') inWord = false;
      } else {
        word += commandLine[i + 1] as string;
        i += 2;
      }
    } else {
      word += ch;
      i++;
    }
  }
  if (inWord) argv.push(word);
  const [program, ...args] = argv;
  if (program === undefined) return { ok: false, message: 'The command line is empty' };
  if (program === '') return { ok: false, message: 'The program name is empty' };
  return { ok: true, argv: [program, ...args] };
}
