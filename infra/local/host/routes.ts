/**
 * HTTP route templates as the Functions host (ASP.NET Core routing) understands them: literal
 * segments (matched case-insensitively), `{param}`, optional `{param?}`, defaults `{param=x}`,
 * catch-all `{*rest}` / `{**rest}`, complex segments such as `{name}.{ext}`, and a few inline
 * constraints (`int`, `long`, `alpha`, `bool`, `guid`, `regex(...)`; others are ignored).
 * A {@link RouteTable} picks, among the routes whose methods allow the request, the most specific
 * match: segment by segment, literal < complex < constrained param < param < optional < catch-all.
 * Parameter values are percent-decoded (`wd%2Fsub%20dir` → `wd/sub dir`). Pure code, no I/O.
 */

interface ParamPart {
  kind: 'param';
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue?: string;
  constraints: string[];
}
type Part = { kind: 'literal'; text: string } | ParamPart;

/** One path segment of a template: a single literal, a single parameter, or a mix (complex). */
export interface Segment {
  parts: Part[];
  /** Precedence rank: lower is more specific. */
  rank: number;
  regex?: RegExp;
}

function parseParam(body: string, template: string): ParamPart {
  let s = body;
  let catchAll = false;
  if (s.startsWith('**')) [catchAll, s] = [true, s.slice(2)];
  else if (s.startsWith('*')) [catchAll, s] = [true, s.slice(1)];
  let optional = false;
  let defaultValue: string | undefined;
  const nameMatch = /^[^:=?]+/.exec(s);
  if (!nameMatch) throw new Error(`route '${template}': empty parameter name`);
  const name = nameMatch[0].trim();
  let rest = s.slice(nameMatch[0].length);
  if (rest.endsWith('?')) [optional, rest] = [true, rest.slice(0, -1)];
  const eq = rest.search(/=(?![^(]*\))/);
  if (eq >= 0) [defaultValue, rest] = [rest.slice(eq + 1), rest.slice(0, eq)];
  const constraints = rest ? splitConstraints(rest.slice(1)) : [];
  return { kind: 'param', name, optional, catchAll, defaultValue, constraints };
}

/** Splits `int:min(1):regex(a:b)` on colons outside parentheses. */
function splitConstraints(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ':' && depth === 0) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur) out.push(cur);
  return out;
}

function parseSegment(text: string, template: string): Segment {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if ((ch === '{' || ch === '}') && text[i + 1] === ch) {
      literal += ch;
      i++;
    } else if (ch === '{') {
      let j = i + 1;
      let body = '';
      for (; j < text.length; j++) {
        if (text[j] === '}' && text[j + 1] === '}') [body, j] = [body + '}', j + 1];
        else if (text[j] === '}') break;
        else body += text[j];
      }
      if (j >= text.length) throw new Error(`route '${template}': unclosed '{'`);
      if (literal) parts.push({ kind: 'literal', text: literal });
      literal = '';
      parts.push(parseParam(body, template));
      i = j;
    } else if (ch === '}') {
      throw new Error(`route '${template}': unmatched '}'`);
    } else {
      literal += ch;
    }
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  if (parts.length === 1) {
    const p = parts[0]!;
    if (p.kind === 'literal') return { parts, rank: 0 };
    return { parts, rank: p.catchAll ? 5 : p.optional || p.defaultValue !== undefined ? 4 : p.constraints.length ? 2 : 3 };
  }
  const params = parts.filter((p): p is ParamPart => p.kind === 'param');
  if (params.some((p) => p.catchAll || p.optional)) {
    throw new Error(`route '${template}': optional/catch-all parameters must be a whole segment`);
  }
  for (let k = 1; k < parts.length; k++) {
    if (parts[k]!.kind === 'param' && parts[k - 1]!.kind === 'param') {
      throw new Error(`route '${template}': two parameters in one segment need a literal between them`);
    }
  }
  const src = parts.map((p) => (p.kind === 'literal' ? p.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : '(.+?)')).join('');
  return { parts, rank: 1, regex: new RegExp(`^${src}$`, 'i') };
}

/** Parses a route template (without leading/trailing slashes) into segments; throws on syntax errors. */
export function parseRouteTemplate(template: string): Segment[] {
  const trimmed = template.replace(/^[~/]+|\/+$/g, '');
  if (trimmed === '') return [];
  const segments = trimmed.split('/').map((s) => {
    if (s === '') throw new Error(`route '${template}': empty segment`);
    return parseSegment(s, template);
  });
  const names = new Set<string>();
  segments.forEach((seg, i) => {
    for (const p of seg.parts) {
      if (p.kind !== 'param') continue;
      const key = p.name.toLowerCase();
      if (names.has(key)) throw new Error(`route '${template}': duplicate parameter '${p.name}'`);
      names.add(key);
      if (p.catchAll && i !== segments.length - 1) throw new Error(`route '${template}': catch-all must be the last segment`);
    }
    if (seg.parts.length === 1 && seg.rank === 4) {
      const later = segments.slice(i + 1);
      if (later.some((s) => s.rank < 4)) throw new Error(`route '${template}': optional parameter followed by a required segment`);
    }
  });
  return segments;
}

/** Percent-decodes a path piece; malformed escapes leave it as is. */
export function decodePathPiece(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

const GUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function satisfies(value: string, constraints: string[]): boolean {
  return constraints.every((c) => {
    const m = /^(\w+)(?:\((.*)\))?$/s.exec(c);
    switch (m?.[1]?.toLowerCase()) {
      case 'int':
      case 'long':
        return /^-?\d+$/.test(value);
      case 'alpha':
        return /^[a-z]+$/i.test(value);
      case 'bool':
        return /^(true|false)$/i.test(value);
      case 'guid':
        return GUID.test(value.replace(/^[{(]|[})]$/g, ''));
      case 'regex':
        return new RegExp(m?.[2] ?? '', 'i').test(value);
      default:
        return true; // other constraints are not enforced locally
    }
  });
}

/** Matches path segments (raw, still percent-encoded) against a parsed template. */
export function matchSegments(segments: Segment[], rawPath: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const first = seg.parts[0]!;
    if (first.kind === 'param' && first.catchAll) {
      const rest = rawPath.slice(i);
      const value = rest.length ? decodePathPiece(rest.join('/')) : first.defaultValue;
      if (value !== undefined) {
        if (!satisfies(value, first.constraints)) return undefined;
        params[first.name] = value;
      }
      return params;
    }
    const raw = rawPath[i];
    if (raw === undefined) {
      if (first.kind === 'param' && (first.optional || first.defaultValue !== undefined)) {
        if (first.defaultValue !== undefined) params[first.name] = first.defaultValue;
        continue;
      }
      return undefined;
    }
    const decoded = decodePathPiece(raw);
    if (seg.regex) {
      const m = seg.regex.exec(decoded);
      if (!m) return undefined;
      let g = 1;
      for (const p of seg.parts) {
        if (p.kind !== 'param') continue;
        const v = m[g++]!;
        if (!satisfies(v, p.constraints)) return undefined;
        params[p.name] = v;
      }
    } else if (first.kind === 'literal') {
      if (decoded.toLowerCase() !== first.text.toLowerCase()) return undefined;
    } else {
      if (decoded === '' || !satisfies(decoded, first.constraints)) return undefined;
      params[first.name] = decoded;
    }
  }
  return rawPath.length > segments.length ? undefined : params;
}

/** Splits a raw URL path (no query) into raw segments, ignoring the leading and one trailing slash. */
export function splitPath(rawPath: string): string[] {
  const p = rawPath.replace(/^\/+/, '').replace(/\/$/, '');
  return p === '' ? [] : p.split('/');
}

/** Compares two routes by specificity: negative when `a` should be tried before `b`. */
export function compareSpecificity(a: Segment[], b: Segment[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ra = a[i]?.rank ?? -1;
    const rb = b[i]?.rank ?? -1;
    if (ra !== rb) return ra - rb;
  }
  return 0;
}

interface Entry<T> {
  template: string;
  segments: Segment[];
  methods: Set<string> | null;
  value: T;
}

/** The result of {@link RouteTable.match}. */
export interface RouteMatch<T> {
  value: T;
  template: string;
  params: Record<string, string>;
}

/** A set of route templates with methods; {@link match} returns the most specific match. */
export class RouteTable<T> {
  private entries: Entry<T>[] = [];

  /** Adds a route; `methods` undefined or empty means any method. Throws on template syntax errors. */
  add(template: string, methods: readonly string[] | undefined, value: T): void {
    const entry: Entry<T> = {
      template,
      segments: parseRouteTemplate(template),
      methods: methods && methods.length ? new Set(methods.map((m) => m.toUpperCase())) : null,
      value,
    };
    // Stable insertion keeps registration order among equally specific routes.
    let i = this.entries.length;
    while (i > 0 && compareSpecificity(entry.segments, this.entries[i - 1]!.segments) < 0) i--;
    this.entries.splice(i, 0, entry);
  }

  /** Finds the most specific route for a method and raw (percent-encoded) path without query. */
  match(method: string, rawPath: string): RouteMatch<T> | undefined {
    const m = method.toUpperCase();
    const path = splitPath(rawPath);
    for (const e of this.entries) {
      if (e.methods && !e.methods.has(m)) continue;
      const params = matchSegments(e.segments, path);
      if (params) return { value: e.value, template: e.template, params };
    }
    return undefined;
  }
}
