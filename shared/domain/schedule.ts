/**
 * Timer schedules derived from configuration at registration time (NCRONTAB schedules are static
 * once registered). Six-field NCRONTAB with seconds first, so the Consumption plan accepts them.
 */
export function everySecondsSchedule(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`A timer period must be a whole number of seconds ≥ 1 (got ${seconds})`);
  if (seconds < 60) return `*/${seconds} * * * * *`;
  if (seconds % 60 === 0 && seconds < 3600) return `0 */${seconds / 60} * * * *`;
  if (seconds % 3600 === 0 && seconds <= 12 * 3600) return `0 0 */${seconds / 3600} * * *`;
  throw new Error(`A timer period of ${seconds} seconds cannot be written as an NCRONTAB schedule; use fewer than 60 seconds or whole minutes/hours`);
}
