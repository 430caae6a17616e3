/**
 * Which trunk carries a call to an external number: the one rule every outbound path uses (a device dialling out,
 * click-to-call, call forwarding, blind transfer). Today: the first configured trunk.
 */
import type { PbxConfig, TrunkConfig } from '../../config/index.js';

/** The trunk for a call to `number`, or undefined when none is configured. */
export function trunkFor(config: PbxConfig, _number: string): TrunkConfig | undefined {
  return config.trunks[0];
}
