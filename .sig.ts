import { z } from 'zod';
import { EVENT_NAMES, eventSchemas } from './shared/events/catalog';
type JS = { type?: string; properties?: Record<string, JS>; required?: string[]; enum?: unknown[]; format?: string; items?: JS; pattern?: string };
function sig(js: JS): string {
  if (js.type === 'object') return '{' + Object.entries(js.properties ?? {}).map(([k, v]) => k + (js.required?.includes(k) ? '' : '?') + sig(v)).join(' ') + '}';
  if (js.type === 'array') return '[' + sig(js.items ?? {}) + ']';
  return ':' + (js.enum ? js.enum.join('|') : (js.format ?? js.type));
}
for (const n of EVENT_NAMES) console.log(n, sig(z.toJSONSchema(eventSchemas[n]) as JS));
