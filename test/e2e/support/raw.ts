import { sign } from '../../../shared/api/sharedkey';

/** A Shared Key–signed raw request, for what the official client cannot send (malformed bodies…). */
export async function rawRequest(base: string, account: string, key: string, method: string, pathAndQuery: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> | undefined; headers: Headers }> {
  const h: Record<string, string> = { 'ocp-date': new Date().toUTCString(), ...headers };
  if (body !== undefined) {
    h['content-type'] = 'application/json; odata=minimalmetadata; charset=utf-8';
    h['content-length'] = String(Buffer.byteLength(body));
  }
  h.authorization = `SharedKey ${account}:${sign({ method, rawPathAndQuery: pathAndQuery, headers: h }, account, key)}`;
  const res = await fetch(base + pathAndQuery, { method, headers: h, body });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, headers: res.headers };
}
