/** A checkpoint folder as a test compares it: its entries without the writer lease the runtime keeps beside them. */
import { readdirSync } from 'node:fs';

export const isLeaseFile = (name: string) => name.startsWith('.ckpt-policy-lease');

export function checkpointFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => !isLeaseFile(n)).sort();
}
