/** Small accessors for rhea link internals its typings leave out. */
import type { Receiver, Sender } from 'rhea';

/** Our side's attach frame; fields set here go out with the attach reply. */
export interface LocalAttach {
  max_message_size?: number;
  snd_settle_mode?: number;
  rcv_settle_mode?: number;
  offered_capabilities?: unknown;
}

export function localAttach(link: Sender | Receiver): LocalAttach {
  return (link as unknown as { local: { attach: LocalAttach } }).local.attach;
}

/** The capabilities the peer asked for, as a list of symbols. */
export function desiredCapabilities(link: Sender | Receiver): string[] {
  const caps: unknown = link.desired_capabilities;
  if (typeof caps === 'string') return [caps];
  return Array.isArray(caps) ? caps.filter((c): c is string => typeof c === 'string') : [];
}
