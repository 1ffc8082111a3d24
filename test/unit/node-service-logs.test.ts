import { describe, expect, it } from 'vitest';
import { blobUrl, isServiceLogName } from '../../agent/service-logs';
import { logsInRange } from '../../shared/services/node-logs';

describe('service log upload helpers', () => {
  it('accepts only this node\'s agent log names', () => {
    expect(isServiceLogName('tvm_1', 'tvm_1.agent.log')).toBe(true);
    expect(isServiceLogName('tvm_1', 'tvm_1.agent.3.log')).toBe(true);
    expect(isServiceLogName('tvm_1', 'tvm_2.agent.log')).toBe(false);
    expect(isServiceLogName('tvm_1', 'tvm_1.agent.log/../../x')).toBe(false);
    expect(isServiceLogName('tvm_1', '../tvm_1.agent.log')).toBe(false);
    expect(isServiceLogName('tvm_1', 'tvm_1.pid')).toBe(false);
  });

  it('puts blobs under the virtual directory and keeps the SAS', () => {
    expect(blobUrl('http://127.0.0.1:10000/devstoreaccount1/logs?sv=1&sig=a%2Bb', 'acct/pool/node 1/req', 'n.agent.log'))
      .toBe('http://127.0.0.1:10000/devstoreaccount1/logs/acct/pool/node%201/req/n.agent.log?sv=1&sig=a%2Bb');
    expect(blobUrl('https://a.blob.core.windows.net/c/?sig=x', 'v', 'f.log')).toBe('https://a.blob.core.windows.net/c/v/f.log?sig=x');
  });

  it('selects every file whose span meets the time range', () => {
    const files = [
      { name: 'a', creationTime: '2024-01-01T00:00:00Z', lastModified: '2024-01-01T01:00:00Z' },
      { name: 'b', creationTime: '2024-01-01T01:00:00Z', lastModified: '2024-01-01T02:00:00Z' },
      { name: 'c', creationTime: '2024-01-01T02:00:00Z', lastModified: '2024-01-01T03:00:00Z' },
    ];
    expect(logsInRange(files, '2024-01-01T01:30:00Z').map((f) => f.name)).toEqual(['b', 'c']);
    expect(logsInRange(files, '2023-01-01T00:00:00Z', '2024-01-01T00:30:00Z').map((f) => f.name)).toEqual(['a']);
    expect(logsInRange(files, '2025-01-01T00:00:00Z')).toEqual([]);
  });
});
