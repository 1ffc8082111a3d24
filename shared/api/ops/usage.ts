import { hourStart } from '../../domain/stats';
import type { Runtime } from '../../runtime';
import { poolUsageMetrics } from '../../services/usage';
import { canonicalToDate, parseDateTimeText } from '../odata/datetime';
import { invalidQuery } from '../odata/errors';
import type { ApiRequest, ApiResponse } from '../wire';
import { listArray } from './list';

const HOUR_MS = 3_600_000;

/** A `starttime`/`endtime` value (W3C or RFC 1123 date/time), or 400 InvalidQueryParameterValue. */
function timeParam(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const d = parseDateTimeText(text.trim());
  if (!d.ok) throw invalidQuery(name, text, d.reason);
  return canonicalToDate(d.value).getTime();
}

/**
 * GET /poolusagemetrics: per pool, VM size and hour, the core hours of its nodes, from real node
 * lifetimes (services/usage.ts). `starttime`/`endtime` select the hours that overlap the range
 * (default: the last complete hour and the current one, which is reported as used so far: batchplane
 * has no aggregation delay); `$filter` on poolId, startTime, endTime narrows the entries.
 */
export async function poolUsageMetricsOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  return listArray(req, {
    schema: 'poolUsageMetrics',
    metadata: 'poolusagemetrics',
    extraParams: ['starttime', 'endtime'],
    items: async (q) => {
      const now = rt.clock().getTime();
      const from = timeParam('starttime', q.extra?.starttime) ?? hourStart(now) - HOUR_MS;
      const to = timeParam('endtime', q.extra?.endtime) ?? now;
      if (to <= from) return [];
      return (await poolUsageMetrics(rt, from, to)).map((m) => ({ ...m }));
    },
    key: (m) => `${String(m.poolId)}|${String(m.startTime)}|${String(m.vmSize)}`,
  });
}
