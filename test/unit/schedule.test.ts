import { describe, expect, it } from 'vitest';
import { everySecondsSchedule } from '../../shared/domain/schedule';
import { parseSchedule } from '../../infra/local/host/timer-trigger';

describe('timer schedules from configuration', () => {
  it.each([
    [30, '*/30 * * * * *'], [5, '*/5 * * * * *'], [1, '*/1 * * * * *'], [60, '0 */1 * * * *'], [300, '0 */5 * * * *'], [7200, '0 0 */2 * * *'],
  ])('%i s → %s (a valid NCRONTAB)', (secs, expected) => {
    expect(everySecondsSchedule(secs)).toBe(expected);
    expect(parseSchedule(expected).kind).toBe('cron');
  });

  it.each([0, -1, 1.5, 90, 86_400])('refuses %i s', (secs) => {
    expect(() => everySecondsSchedule(secs)).toThrow();
  });
});
